import sys

from gridbook.cli.main import main

sys.exit(main())
