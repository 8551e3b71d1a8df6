"""Optional donation sources (Ko-fi, StreamElements, Streamlabs), each feeding StreamEvents to a callback."""
