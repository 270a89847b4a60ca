"""The pure core: a validated spec in, a troposphere Template out. No files, clock or network."""
