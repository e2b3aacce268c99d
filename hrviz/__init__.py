"""hrviz — replay a heart-rate CSV as a live chart with an anomaly panel."""

__version__ = "0.1.0"
