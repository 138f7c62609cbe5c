for i in range(10**9):
    print("flood", i, "x" * 100)
