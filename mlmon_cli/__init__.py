"""mlmon: operational peace of mind for ML solutions on AWS."""

__version__ = "0.1.0"
