"""Photos and files shoppers send: kept, linked to a return, shown to operators."""
