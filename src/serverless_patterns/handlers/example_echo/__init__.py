"""A tiny echo handler: returns the JSON body it receives, or a 400 for malformed input."""
