from medialib.cli import main

main()
