// Command datadir prints the MNIST folder that zoo uses (data.Locate), for
// scripts such as bench/ab.sh.
package main

import (
	"fmt"
	"os"

	"github.com/aezoo/aezoo/data"
)

func main() {
	dir, err := data.Locate("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "datadir:", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
