"""`python -m demo` is `python -m shared.demo` (the live demo)."""

import sys

from shared.demo import main

sys.exit(main(sys.argv[1:]))
