"""What a downloaded body really is: its type from its bytes (sniff), an image's size and
wholeness from its header (image), whether an SVG is safe (svg), and the metadata a file carries
(embedded). Everything here is CPU work on a file; callers run it in a thread."""
