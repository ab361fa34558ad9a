"""``python -m tokzoo`` runs the command line (also under ``torchrun -m tokzoo``)."""

import sys

from tokzoo.cli import main

sys.exit(main())
