"""sid.fieldwork"""
