from kbvideo.cli import main

main()
