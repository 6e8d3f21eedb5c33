"""sid.demo"""
