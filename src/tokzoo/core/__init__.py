"""tokzoo.core"""
