package data_test

import (
	"fmt"
	"image"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/aezoo/aezoo/data"
)

// An image folder with one sub-folder per class: no test split, so a
// seeded fifth is held out.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "images")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for i := range 10 {
		class := filepath.Join(dir, []string{"circle", "square"}[i%2])
		os.MkdirAll(class, 0o755)
		f, err := os.Create(filepath.Join(class, fmt.Sprint(i, ".png")))
		if err != nil {
			log.Fatal(err)
		}
		png.Encode(f, image.NewGray(image.Rect(0, 0, 8, 6)))
		f.Close()
	}
	train, test, _, err := data.Open(data.Source{Path: dir, Seed: 1}, 0, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("train %d, test %d, images %s, D = %d\n", train.N, test.N, train.ShapeString(), train.D)
	// Output: train 8, test 2, images 6×8, D = 48
}
