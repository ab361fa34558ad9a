"""tokzoo.image"""
