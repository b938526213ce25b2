package zoo

import (
	"fmt"
	"io"

	"github.com/aezoo/aezoo/train"
)

func writeEpochLine(w io.Writer, l train.EpochLog) {
	fmt.Fprintf(w, "epoch %d: train loss %.4f, test loss %.4f (recon %.4f, penalty %.4f), test BCE %.2f nats/image, %.0f samples/s\n",
		l.Epoch, l.TrainLoss, l.TestLoss, l.TestRecon, l.TestPenalty, l.TestBCE, l.SamplesPerS)
}
