"""The language: expression trees, kinds and shapes, declarations, the parser, shape
inference, typed constructors and the printers."""
