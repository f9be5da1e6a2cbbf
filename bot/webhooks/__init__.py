"""MusicAPI webhooks: per-job addresses, signature checks, and the receiver."""
