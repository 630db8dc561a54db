# Channels ships no type hints; these cover what Frontdesk uses.
