"""gen-tf: Terraform for the W&B self-managed reference architecture."""

__version__ = "0.2.0"
