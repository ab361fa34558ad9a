"""tokzoo.quant"""
