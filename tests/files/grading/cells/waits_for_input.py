name = input("What is your name? ")
