package indicator

import (
	"math"
	"testing"

	"github.com/mosaic-go/mosaic/result"
)

const tolerance = 1e-12

// checkValue fails the test unless got is defined and within tolerance of
// want.
func checkValue(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", name, want)
		return
	}
	if math.Abs(*got-want) > tolerance {
		t.Errorf("%s = %v, want %v", name, *got, want)
	}
}

// checkNil fails the test unless got is nil.
func checkNil(t *testing.T, name string, got *float64) {
	t.Helper()
	if got != nil {
		t.Errorf("%s = %v, want nil", name, *got)
	}
}

// exampleShort is the 8-epoch example of docs/indicators.md.
func exampleShort() result.Curves {
	return result.Curves{
		TrainLoss:     []float64{2.0, 1.5, 1.25, 1.0, 0.875, 0.75, 0.75, 0.625},
		TestLoss:      []float64{2.25, 1.75, 1.5, 1.375, 1.25, 1.25, 1.3125, 1.375},
		TrainAccuracy: []float64{0.5, 0.625, 0.6875, 0.75, 0.8125, 0.8125, 0.875, 0.875},
		TestAccuracy:  []float64{0.5, 0.5625, 0.625, 0.6875, 0.6875, 0.75, 0.75, 0.75},
	}
}

// exampleLong is the 21-epoch example of docs/indicators.md: L_train(e) =
// 16 − e/2 for e ≤ 16, then 7.5, 6.25, 6.0, 5.5, 5.5.
func exampleLong() result.Curves {
	var c result.Curves
	for e := 1; e <= 16; e++ {
		c.TrainLoss = append(c.TrainLoss, 16-0.5*float64(e))
	}
	c.TrainLoss = append(c.TrainLoss, 7.5, 6.25, 6.0, 5.5, 5.5)
	for _, x := range c.TrainLoss {
		c.TestLoss = append(c.TestLoss, x+1)
	}
	return c
}

func TestComputeShortExample(t *testing.T) {
	ind := Compute(exampleShort())

	checkValue(t, "train_loss", ind.TrainLoss, 0.625)
	checkValue(t, "test_loss", ind.TestLoss, 1.375)
	checkValue(t, "train_accuracy", ind.TrainAccuracy, 0.875)
	checkValue(t, "test_accuracy", ind.TestAccuracy, 0.75)
	checkValue(t, "overfitting", ind.Overfitting, 6.0/13.0)
	checkValue(t, "slope", ind.Slope, -0.125)
	checkValue(t, "slope_sigma_plus", ind.SlopeSigmaPlus, 0)
	checkValue(t, "slope_sigma_minus", ind.SlopeSigmaMinus, 0)
	checkValue(t, "trainability", ind.Trainability, 8.75)
	checkNil(t, "duration_s", ind.DurationS)
	if ind.NbParams != nil {
		t.Errorf("nb_params = %d, want nil", *ind.NbParams)
	}
}

func TestComputeLongExample(t *testing.T) {
	ind := Compute(exampleLong())

	checkValue(t, "train_loss", ind.TrainLoss, 5.5)
	checkValue(t, "test_loss", ind.TestLoss, 6.5)
	checkNil(t, "train_accuracy", ind.TrainAccuracy)
	checkNil(t, "test_accuracy", ind.TestAccuracy)
	// The range of all values is 16.5 − 5.5 = 11.
	checkValue(t, "overfitting", ind.Overfitting, 1.0/11.0)
	checkValue(t, "slope", ind.Slope, -0.625)
	checkValue(t, "slope_sigma_plus", ind.SlopeSigmaPlus, math.Sqrt(0.125/3))
	checkValue(t, "slope_sigma_minus", ind.SlopeSigmaMinus, 0.375)
	checkValue(t, "trainability", ind.Trainability, 218.75)
}

func TestSlopeWindowSizes(t *testing.T) {
	cases := []struct{ n, w int }{{0, 0}, {1, 1}, {2, 1}, {20, 1}, {21, 2}, {40, 2}, {41, 3}, {200, 10}}
	for _, c := range cases {
		if got := slopeWindow(c.n); got != c.w {
			t.Errorf("slopeWindow(%d) = %d, want %d", c.n, got, c.w)
		}
	}
}

// TestSlopeWindowOfThree checks w = 3 and that the difference of the
// window's first epoch uses the epoch before the window.
func TestSlopeWindowOfThree(t *testing.T) {
	train := make([]float64, 35, 41)
	for i := range train {
		train[i] = 100
	}
	train = append(train, 6, 4, 3.5, 3, 2, 1.5)

	ind := Compute(result.Curves{TrainLoss: train, TestLoss: train})

	checkValue(t, "slope", ind.Slope, 6.5/3-13.5/3)
	// Differences: −94, −2, −0.5, −0.5, −1, −0.5, mean −98.5/6. The plus
	// side contains the last five, with mean −0.9 and variance 0.34.
	checkValue(t, "slope_sigma_plus", ind.SlopeSigmaPlus, math.Sqrt(0.34))
	checkValue(t, "slope_sigma_minus", ind.SlopeSigmaMinus, 0)
}

func TestComputeNoEpochs(t *testing.T) {
	ind := Compute(result.Curves{})

	checkNil(t, "train_loss", ind.TrainLoss)
	checkNil(t, "test_loss", ind.TestLoss)
	checkNil(t, "train_accuracy", ind.TrainAccuracy)
	checkNil(t, "test_accuracy", ind.TestAccuracy)
	checkNil(t, "overfitting", ind.Overfitting)
	checkNil(t, "slope", ind.Slope)
	checkNil(t, "slope_sigma_plus", ind.SlopeSigmaPlus)
	checkNil(t, "slope_sigma_minus", ind.SlopeSigmaMinus)
	checkNil(t, "trainability", ind.Trainability)
}

func TestComputeOneEpoch(t *testing.T) {
	ind := Compute(result.Curves{TrainLoss: []float64{0.75}, TestLoss: []float64{1.0}})

	checkValue(t, "train_loss", ind.TrainLoss, 0.75)
	checkValue(t, "test_loss", ind.TestLoss, 1.0)
	// The gap equals the range when there is one value per curve.
	checkValue(t, "overfitting", ind.Overfitting, 1)
	checkNil(t, "slope", ind.Slope)
	checkNil(t, "slope_sigma_plus", ind.SlopeSigmaPlus)
	checkNil(t, "slope_sigma_minus", ind.SlopeSigmaMinus)
	checkValue(t, "trainability", ind.Trainability, 0.75)
}

// TestComputeTwoEpochs checks that a single difference gives both sides a
// standard deviation of 0.
func TestComputeTwoEpochs(t *testing.T) {
	ind := Compute(result.Curves{TrainLoss: []float64{1.0, 0.5}, TestLoss: []float64{1.0, 0.75}})

	checkValue(t, "slope", ind.Slope, -0.5)
	checkValue(t, "slope_sigma_plus", ind.SlopeSigmaPlus, 0)
	checkValue(t, "slope_sigma_minus", ind.SlopeSigmaMinus, 0)
	checkValue(t, "overfitting", ind.Overfitting, 0.5)
}

func TestComputeConstantCurves(t *testing.T) {
	flat := []float64{0.5, 0.5, 0.5, 0.5, 0.5}
	ind := Compute(result.Curves{TrainLoss: flat, TestLoss: flat})

	checkValue(t, "overfitting", ind.Overfitting, 0)
	checkValue(t, "slope", ind.Slope, 0)
	checkValue(t, "slope_sigma_plus", ind.SlopeSigmaPlus, 0)
	checkValue(t, "slope_sigma_minus", ind.SlopeSigmaMinus, 0)
	checkValue(t, "trainability", ind.Trainability, 2.5)
}

// TestSlopeSigmasEqualSteps checks that equal differences whose computed
// mean is rounded past all of them still leave both sides defined.
func TestSlopeSigmasEqualSteps(t *testing.T) {
	train := make([]float64, 60)
	for i := range train {
		train[i] = 10 - 0.1*float64(i)
	}

	ind := Compute(result.Curves{TrainLoss: train, TestLoss: train})

	if ind.SlopeSigmaPlus == nil || ind.SlopeSigmaMinus == nil {
		t.Fatalf("sigmas = %v, %v, want both defined", ind.SlopeSigmaPlus, ind.SlopeSigmaMinus)
	}
	if *ind.SlopeSigmaPlus > 1e-12 || *ind.SlopeSigmaMinus > 1e-12 {
		t.Errorf("sigmas = %v, %v, want about 0", *ind.SlopeSigmaPlus, *ind.SlopeSigmaMinus)
	}
}

func TestComputeDivergedRun(t *testing.T) {
	c := exampleShort()
	c.TrainLoss[7] = math.NaN()
	c.TestLoss[7] = math.Inf(1)

	ind := Compute(c)

	checkNil(t, "train_loss", ind.TrainLoss)
	checkNil(t, "test_loss", ind.TestLoss)
	checkNil(t, "overfitting", ind.Overfitting)
	checkNil(t, "slope", ind.Slope)
	checkNil(t, "slope_sigma_plus", ind.SlopeSigmaPlus)
	checkNil(t, "slope_sigma_minus", ind.SlopeSigmaMinus)
	checkNil(t, "trainability", ind.Trainability)
	// The accuracy curves are finite, so their last values stay defined.
	checkValue(t, "train_accuracy", ind.TrainAccuracy, 0.875)
	checkValue(t, "test_accuracy", ind.TestAccuracy, 0.75)
}

// TestComputeNaNOutsideWindow checks that an early NaN leaves undefined only
// the indicators that read it.
func TestComputeNaNOutsideWindow(t *testing.T) {
	c := exampleShort()
	c.TrainLoss[0] = math.NaN()

	ind := Compute(c)

	checkValue(t, "train_loss", ind.TrainLoss, 0.625)
	checkValue(t, "slope", ind.Slope, -0.125)
	checkValue(t, "slope_sigma_plus", ind.SlopeSigmaPlus, 0)
	checkNil(t, "overfitting", ind.Overfitting)
	checkNil(t, "trainability", ind.Trainability)
}
