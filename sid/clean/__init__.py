"""sid.clean"""
