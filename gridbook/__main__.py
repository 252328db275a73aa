import sys

from gridbook.cli import main

sys.exit(main())
