"""tokzoo.metrics"""
