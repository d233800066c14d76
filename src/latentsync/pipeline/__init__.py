"""Streaming lip-sync: decode -> faces -> align -> generate -> paste back -> encode -> mux."""
