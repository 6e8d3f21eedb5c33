"""sid.pipeline"""
