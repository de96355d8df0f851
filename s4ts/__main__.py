"""`python -m s4ts`: the s4ts command line."""

import sys

from s4ts.cli import main

sys.exit(main())
