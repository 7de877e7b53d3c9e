// Command mosaic expands, runs, submits, collects and analyses model
// comparison studies declared in one INI file. The commands live in package
// mosaiccli, so that a program with more stage classes can reuse them.
package main

import "github.com/mosaic-go/mosaic/mosaiccli"

func main() {
	mosaiccli.Main()
}
