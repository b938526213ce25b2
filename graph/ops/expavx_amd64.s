#include "textflag.h"

// Offsets of the constants in avxK (32 bytes per constant, see kx… in
// expavx_amd64.go).
#define KSIGN 0
#define KLIMIT 32
#define KLOG2E 64
#define KLN2U 96
#define KLN2L 128
#define KSIXT 160
#define KE8 192
#define KE7 224
#define KE6 256
#define KE5 288
#define KE4 320
#define KE3 352
#define KHALF 384
#define KONE 416
#define KTWO 448
#define KS2M1 480
#define KLN2 512
#define KC15 544
#define KC13 576
#define KC11 608
#define KC9 640
#define KC7 672
#define KC5 704
#define KC3 736
#define KBIAS 768

// EXP4: Y3 = e^Y3 for four lanes with no overflow, underflow or NaN (the
// callers pass −|v| with |v| ≤ 700), by the operations of
// math/exp_amd64.s's FMA path in the same order. R8 holds &avxK; uses Y4,
// Y5, Y6, Y7.
#define EXP4 \
	VMULPD       KLOG2E(R8), Y3, Y4 \
	VCVTPD2DQY   Y4, X5 \
	VCVTDQ2PD    X5, Y4 \
	VFNMADD231PD KLN2U(R8), Y4, Y3 \
	VFNMADD231PD KLN2L(R8), Y4, Y3 \
	VMULPD       KSIXT(R8), Y3, Y3 \
	VMOVUPD      KE8(R8), Y6 \
	VFMADD213PD  KE7(R8), Y3, Y6 \
	VFMADD213PD  KE6(R8), Y3, Y6 \
	VFMADD213PD  KE5(R8), Y3, Y6 \
	VFMADD213PD  KE4(R8), Y3, Y6 \
	VFMADD213PD  KE3(R8), Y3, Y6 \
	VFMADD213PD  KHALF(R8), Y3, Y6 \
	VFMADD213PD  KONE(R8), Y3, Y6 \
	VMULPD       Y6, Y3, Y3 \
	VADDPD       KTWO(R8), Y3, Y6 \
	VMULPD       Y6, Y3, Y3 \
	VADDPD       KTWO(R8), Y3, Y6 \
	VMULPD       Y6, Y3, Y3 \
	VADDPD       KTWO(R8), Y3, Y6 \
	VMULPD       Y6, Y3, Y3 \
	VADDPD       KTWO(R8), Y3, Y6 \
	VFMADD213PD  KONE(R8), Y6, Y3 \
	VPADDD       KBIAS(R8), X5, X5 \
	VPMOVZXDQ    X5, Y7 \
	VPSLLQ       $52, Y7, Y7 \
	VMULPD       Y7, Y3, Y3

// func bceSumAVX(l, x []float32, e []float64, s float64, k *[kxCount][4]float64) (sum float64, n int)
//
// Per entry, as bceSum's float32 loop: lf = float64(l), e = exp(−|lf|),
// y = log1pUnit(e), t = (lf if lf > 0, else 0) + y − float64(x)·lf,
// s += t (lanes in order).
TEXT ·bceSumAVX(SB), NOSPLIT, $0-104
	MOVQ   l_base+0(FP), DI
	MOVQ   l_len+8(FP), CX
	MOVQ   x_base+24(FP), SI
	MOVQ   e_base+48(FP), DX
	MOVSD  s+72(FP), X15
	MOVQ   k+80(FP), R8
	XORQ   BX, BX
	SHRQ   $2, CX
	JZ     sumdone
	VMOVUPD KSIGN(R8), Y14

sumloop:
	VCVTPS2PD (DI), Y0            // lf
	VANDNPD   Y0, Y14, Y1         // |lf|
	VCMPPD    $0x12, KLIMIT(R8), Y1, Y2 // |lf| ≤ 700, ordered
	VMOVMSKPD Y2, AX
	CMPQ      AX, $15
	JNE       sumdone
	VORPD     Y14, Y0, Y3         // −|lf|
	EXP4
	VMOVUPD   Y3, (DX)            // e

	// log1pUnit(e)
	VCMPPD    $0x1e, KS2M1(R8), Y3, Y8 // e > √2 − 1
	VSUBPD    KONE(R8), Y3, Y9
	VMULPD    KHALF(R8), Y9, Y9   // (e − 1)·0.5
	VBLENDVPD Y8, Y9, Y3, Y10     // x'
	VANDPD    KLN2(R8), Y8, Y11   // k
	VADDPD    KTWO(R8), Y10, Y12  // 2 + x'
	VDIVPD    Y12, Y10, Y12       // s = x'/(2 + x')
	VMULPD    Y12, Y12, Y13       // z
	VMULPD    KC15(R8), Y13, Y9
	VADDPD    KC13(R8), Y9, Y9
	VMULPD    Y13, Y9, Y9
	VADDPD    KC11(R8), Y9, Y9
	VMULPD    Y13, Y9, Y9
	VADDPD    KC9(R8), Y9, Y9
	VMULPD    Y13, Y9, Y9
	VADDPD    KC7(R8), Y9, Y9
	VMULPD    Y13, Y9, Y9
	VADDPD    KC5(R8), Y9, Y9
	VMULPD    Y13, Y9, Y9
	VADDPD    KC3(R8), Y9, Y9
	VMULPD    Y13, Y9, Y9
	VADDPD    KONE(R8), Y9, Y9
	VADDPD    Y12, Y12, Y10       // 2·s
	VMULPD    Y9, Y10, Y10
	VADDPD    Y11, Y10, Y10       // y = k + 2·s·P(z)

	// softplus − x·l
	VXORPD    Y9, Y9, Y9
	VCMPPD    $0x1e, Y9, Y0, Y8   // lf > 0
	VANDPD    Y0, Y8, Y8
	VADDPD    Y10, Y8, Y8         // softplus
	VCVTPS2PD (SI), Y9            // float64(x)
	VMULPD    Y0, Y9, Y9
	VSUBPD    Y9, Y8, Y8          // t

	VADDSD       X8, X15, X15
	VPERMILPD    $1, X8, X9
	VADDSD       X9, X15, X15
	VEXTRACTF128 $1, Y8, X8
	VADDSD       X8, X15, X15
	VPERMILPD    $1, X8, X9
	VADDSD       X9, X15, X15

	ADDQ $16, DI
	ADDQ $16, SI
	ADDQ $32, DX
	ADDQ $4, BX
	DECQ CX
	JNZ  sumloop

sumdone:
	VZEROUPPER
	MOVSD X15, sum+88(FP)
	MOVQ  BX, n+96(FP)
	RET

// func bceGradAVX(dst, l, x []float32, e []float64, c float64, k *[kxCount][4]float64)
//
// dst = float32(c·(σ − float64(x))), σ = 1/(1 + e) if lf ≥ 0, else
// e/(1 + e) (sigmoidE).
TEXT ·bceGradAVX(SB), NOSPLIT, $0-112
	MOVQ         dst_base+0(FP), DI
	MOVQ         l_base+24(FP), SI
	MOVQ         l_len+32(FP), CX
	MOVQ         x_base+48(FP), R9
	MOVQ         e_base+72(FP), DX
	MOVQ         k+104(FP), R8
	SHRQ         $2, CX
	JZ           graddone
	VBROADCASTSD c+96(FP), Y15
	VXORPD       Y14, Y14, Y14

gradloop:
	VCVTPS2PD (SI), Y0
	VMOVUPD   (DX), Y1
	VADDPD    KONE(R8), Y1, Y2     // 1 + e
	VCMPPD    $0x1d, Y14, Y0, Y3  // lf ≥ 0
	VBLENDVPD Y3, KONE(R8), Y1, Y4 // 1 or e
	VDIVPD    Y2, Y4, Y4
	VCVTPS2PD (R9), Y5
	VSUBPD    Y5, Y4, Y4
	VMULPD    Y4, Y15, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS   X4, (DI)
	ADDQ      $16, DI
	ADDQ      $16, SI
	ADDQ      $16, R9
	ADDQ      $32, DX
	DECQ      CX
	JNZ       gradloop

graddone:
	VZEROUPPER
	RET

// func sigmoidAVX(y, x []float32, k *[kxCount][4]float64) int
//
// y = float32(σ(float64(x))), σ from e = exp(−|x|) as sigmoidE.
TEXT ·sigmoidAVX(SB), NOSPLIT, $0-64
	MOVQ    y_base+0(FP), DI
	MOVQ    x_base+24(FP), SI
	MOVQ    x_len+32(FP), CX
	MOVQ    k+48(FP), R8
	XORQ    BX, BX
	SHRQ    $2, CX
	JZ      sigdone
	VMOVUPD KSIGN(R8), Y14
	VXORPD  Y13, Y13, Y13

sigloop:
	VCVTPS2PD (SI), Y0
	VANDNPD   Y0, Y14, Y1
	VCMPPD    $0x12, KLIMIT(R8), Y1, Y2
	VMOVMSKPD Y2, AX
	CMPQ      AX, $15
	JNE       sigdone
	VORPD     Y14, Y0, Y3
	EXP4
	VADDPD    KONE(R8), Y3, Y2
	VCMPPD    $0x1d, Y13, Y0, Y8
	VBLENDVPD Y8, KONE(R8), Y3, Y4
	VDIVPD    Y2, Y4, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS   X4, (DI)
	ADDQ      $16, DI
	ADDQ      $16, SI
	ADDQ      $4, BX
	DECQ      CX
	JNZ       sigloop

sigdone:
	VZEROUPPER
	MOVQ BX, ret+56(FP)
	RET

// func actGradAVX(kind int, dx, y, dy []float32) int
//
// The first len(y)/8·8 entries of activateGrad's float32 loops, eight at a
// time, the same float32 operations in the same order: kind 0 (sigmoid)
// dx = (dy·y)·(1 − y), 1 (relu) dx = dy if y > 0 else 0, 2 (tanh)
// dx = dy·(1 − y·y). Returns the number of entries done.
TEXT ·actGradAVX(SB), NOSPLIT, $0-88
	MOVQ         kind+0(FP), AX
	MOVQ         dx_base+8(FP), DI
	MOVQ         y_base+32(FP), SI
	MOVQ         y_len+40(FP), CX
	MOVQ         dy_base+56(FP), DX
	SHRQ         $3, CX
	MOVQ         CX, BX
	SHLQ         $3, BX
	MOVQ         BX, ret+80(FP)
	TESTQ        CX, CX
	JZ           agdone
	MOVL         $0x3f800000, R8
	MOVQ         R8, X15
	VBROADCASTSS X15, Y15         // 1
	VXORPS       Y14, Y14, Y14    // 0
	CMPQ         AX, $1
	JEQ          agrelu
	CMPQ         AX, $2
	JEQ          agtanh

agsig:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMULPS  Y0, Y1, Y1            // dy·y
	VSUBPS  Y0, Y15, Y2           // 1 − y
	VMULPS  Y2, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     agsig
	JMP     agdone

agrelu:
	VMOVUPS (SI), Y0
	VCMPPS  $0x1e, Y14, Y0, Y2    // y > 0
	VANDPS  (DX), Y2, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     agrelu
	JMP     agdone

agtanh:
	VMOVUPS (SI), Y0
	VMULPS  Y0, Y0, Y2            // y·y
	VSUBPS  Y2, Y15, Y2           // 1 − y·y
	VMULPS  (DX), Y2, Y1          // dy·(1 − y·y)
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     agtanh

agdone:
	VZEROUPPER
	RET
