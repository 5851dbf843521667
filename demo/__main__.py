"""`python -m demo`: the live demo (see demo/cli.py)."""

import sys

from demo.cli import main

sys.exit(main(sys.argv[1:]))
