"""What an image's pixels say, learnt once at import from a small decoded copy: a perceptual
hash for near-duplicates, a placeholder and a dominant colour, the faces and a focal point."""
