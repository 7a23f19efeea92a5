import sys

from connectors.setup import main

sys.exit(main())
