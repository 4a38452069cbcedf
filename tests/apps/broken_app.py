"""An application whose import fails in its own code (the command shows the traceback)."""

raise RuntimeError("config missing")
