package data_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/aezoo/aezoo/data"
)

func ExampleReadIDX() {
	// Write a 2×3 array as a gzip-compressed IDX file and read it back.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := data.WriteIDX(zw, []int{2, 3}, []byte{1, 2, 3, 4, 5, 6}); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	m, err := data.ReadIDX(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Dims, m.Data)

	// A header that promises more than the input holds is an error.
	_, err = data.ReadIDX(bytes.NewReader([]byte{0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2}))
	fmt.Println(err)
	// Output:
	// [2 3] [1 2 3 4 5 6]
	// idx: truncated: header declares 47040000 bytes (dims 60000x28x28), file holds 2
}

func ExampleLoad() {
	train, err := data.Load(data.Testdata(), data.Train, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(train.N, train.D, train.Rows, train.Cols, train.Labels[:10])
	// Output:
	// 100 784 28 28 [5 0 4 1 9 2 1 3 1 4]
}

func ExampleCorruption_Apply() {
	rng := rand.New(rand.NewPCG(1, 1))
	src := make([]float32, 100000)
	for i := range src {
		src[i] = 0.5
	}
	dst := make([]float32, len(src))

	c := data.Corruption{Kind: "saltpepper", Level: 0.2}
	if err := c.Validate(); err != nil {
		log.Fatal(err)
	}
	c.Apply(rng, src, dst)
	count := map[float32]int{}
	for _, v := range dst {
		count[v]++
	}
	fmt.Printf("0: %.2f  0.5: %.2f  1: %.2f\n",
		float64(count[0])/1e5, float64(count[0.5])/1e5, float64(count[1])/1e5)

	fmt.Println(data.Corruption{Kind: "masking", Level: 1}.Validate())
	// Output:
	// 0: 0.10  0.5: 0.80  1: 0.10
	// corruption "masking": level 1 must be in [0,1)
}
