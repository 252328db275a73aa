"""Analysis of trained networks, pure functions on arrays: rate maps, autocorrelograms, grid scores and periods,
Fourier theory and predictivity."""
