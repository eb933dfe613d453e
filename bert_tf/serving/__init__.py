"""Serving raw text: `text_encoding` (the in-graph WordPiece tokenizer and packing, tensorflow-text) and
`signatures` (the exported SavedModel's signatures: encode, fill-mask, next-sentence).
"""
