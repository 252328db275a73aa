"""Recurrent path integrators: batched networks, their recurrence and optimizers, training and checkpoints."""
