//go:build amd64 && !purego

#include "textflag.h"

// func adamUpdateAVX2(n int, value, m, v, grad *float32, c *adamCoefficients)
//
// The same operations as adamUpdateGeneric in the same order, on eight
// values per iteration, with separate multiplies and adds (no FMA) so that
// every intermediate rounds as in Go. The coefficients are broadcast from
// the struct: beta1 at 0, oneMinusBeta1 at 4, beta2 at 8, oneMinusBeta2 at
// 12, biasCorrection2Sqrt at 16, stepSize at 20, eps at 24.
TEXT ·adamUpdateAVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ value+8(FP), DI
	MOVQ m+16(FP), SI
	MOVQ v+24(FP), DX
	MOVQ grad+32(FP), R8
	MOVQ c+40(FP), AX

	VBROADCASTSS 0(AX), Y8
	VBROADCASTSS 4(AX), Y9
	VBROADCASTSS 8(AX), Y10
	VBROADCASTSS 12(AX), Y11
	VBROADCASTSS 16(AX), Y12
	VBROADCASTSS 20(AX), Y13
	VBROADCASTSS 24(AX), Y14

	XORQ BX, BX
	SHRQ $3, CX
	JZ   done

loop:
	VMOVUPS (R8)(BX*4), Y0

	// m = m*beta1 + oneMinusBeta1*g
	VMULPS  (SI)(BX*4), Y8, Y1
	VMULPS  Y0, Y9, Y2
	VADDPS  Y2, Y1, Y1
	VMOVUPS Y1, (SI)(BX*4)

	// v = v*beta2 + (oneMinusBeta2*g)*g
	VMULPS  (DX)(BX*4), Y10, Y3
	VMULPS  Y0, Y11, Y4
	VMULPS  Y0, Y4, Y4
	VADDPS  Y4, Y3, Y3
	VMOVUPS Y3, (DX)(BX*4)

	// denom = sqrt(v)/biasCorrection2Sqrt + eps
	VSQRTPS Y3, Y5
	VDIVPS  Y12, Y5, Y5
	VADDPS  Y14, Y5, Y5

	// value -= (stepSize*m)/denom
	VMULPS  Y1, Y13, Y6
	VDIVPS  Y5, Y6, Y6
	VMOVUPS (DI)(BX*4), Y7
	VSUBPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)(BX*4)

	ADDQ $8, BX
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET
