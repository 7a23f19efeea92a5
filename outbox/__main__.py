import sys

from outbox.relay import main

sys.exit(main())
