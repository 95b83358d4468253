# bench-cpu: a CPU-bound guest for benchmarks. Three kernels, each printed as a checksum:
#   sieve of Eratosthenes below 1,000,000, repeated 9 times (count of primes);
#   CRC-32 (IEEE, bitwise) over a 64 KiB pseudo-random buffer, 7 passes (XOR of the CRCs);
#   an integer 64x64 matrix multiply, 6 times (sum of the product).
# About 2.1e8 instructions; ends with the test finisher (exit 0).
    .equ UART, 0x10000000
    .equ FINISHER, 0x100000
    .equ SIEVE_N, 1000000
    .equ CRC_BYTES, 65536
    .equ N, 64

    .text
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
    la sp, stack_top

    # ---- sieve ----
    li s0, 9                    # repetitions
    li s1, 0                    # last count
sieve_repeat:
    la a0, sieve
    li a1, SIEVE_N
    li t0, 0
1:  add t1, a0, t0              # mark all as prime (1)
    li t2, 1
    sb t2, 0(t1)
    addi t0, t0, 1
    blt t0, a1, 1b
    sb zero, 0(a0)
    sb zero, 1(a0)
    li t0, 2                    # p
2:  mul t1, t0, t0
    bge t1, a1, 4f
    add t2, a0, t0
    lbu t2, 0(t2)
    beqz t2, 3f
5:  add t3, a0, t1              # cross out p*p, p*p+p, ...
    sb zero, 0(t3)
    add t1, t1, t0
    blt t1, a1, 5b
3:  addi t0, t0, 1
    j 2b
4:  li s1, 0                    # count
    li t0, 0
6:  add t1, a0, t0
    lbu t1, 0(t1)
    add s1, s1, t1
    addi t0, t0, 1
    blt t0, a1, 6b
    addi s0, s0, -1
    bnez s0, sieve_repeat
    la a0, label_sieve
    call print_string
    mv a0, s1
    call print_hex

    # ---- CRC-32 ----
    la a0, buffer               # fill with a xorshift sequence
    li a1, CRC_BYTES
    li t0, 0x2545F491
    li t1, 0
7:  slliw t2, t0, 13
    xor t0, t0, t2
    srliw t2, t0, 17
    xor t0, t0, t2
    slliw t2, t0, 5
    xor t0, t0, t2
    add t2, a0, t1
    sb t0, 0(t2)
    addi t1, t1, 1
    blt t1, a1, 7b
    li s0, 7
    li s1, 0
crc_repeat:
    li t0, -1                   # crc = 0xffffffff (kept in the low 32 bits)
    li t6, 0xEDB88320
    li t1, 0
8:  add t2, a0, t1
    lbu t2, 0(t2)
    xor t0, t0, t2
    li t3, 8
9:  andi t4, t0, 1
    srli t0, t0, 1
    beqz t4, 10f
    xor t0, t0, t6
10: addi t3, t3, -1
    bnez t3, 9b
    addi t1, t1, 1
    blt t1, a1, 8b
    not t0, t0
    slli t0, t0, 32
    srli t0, t0, 32
    xor s1, s1, t0
    addi s0, s0, -1
    bnez s0, crc_repeat
    la a0, label_crc
    call print_string
    mv a0, s1
    call print_hex

    # ---- matrix multiply C = A x B ----
    la a0, matrix_a
    la a1, matrix_b
    li t0, 0
    li t1, N * N
11: slli t2, t0, 3
    add t3, a0, t2
    andi t4, t0, 15
    addi t4, t4, 1
    sd t4, 0(t3)
    add t3, a1, t2
    andi t4, t0, 7
    addi t4, t4, -3
    sd t4, 0(t3)
    addi t0, t0, 1
    blt t0, t1, 11b
    li s0, 6
matmul_repeat:
    la a0, matrix_a
    la a1, matrix_b
    la a2, matrix_c
    li s1, 0                    # sum of C
    li t0, 0                    # i
12: li t1, 0                    # j
13: li t2, 0                    # k
    li t3, 0                    # acc
14: li t4, N
    mul t5, t0, t4
    add t5, t5, t2
    slli t5, t5, 3
    add t5, a0, t5
    ld t5, 0(t5)                # A[i][k]
    mul t6, t2, t4
    add t6, t6, t1
    slli t6, t6, 3
    add t6, a1, t6
    ld t6, 0(t6)                # B[k][j]
    mul t5, t5, t6
    add t3, t3, t5
    addi t2, t2, 1
    blt t2, t4, 14b
    mul t5, t0, t4
    add t5, t5, t1
    slli t5, t5, 3
    add t5, a2, t5
    sd t3, 0(t5)
    add s1, s1, t3
    addi t1, t1, 1
    blt t1, t4, 13b
    addi t0, t0, 1
    blt t0, t4, 12b
    addi s0, s0, -1
    bnez s0, matmul_repeat
    la a0, label_matmul
    call print_string
    mv a0, s1
    call print_hex

    li t0, FINISHER
    li t1, 0x5555
    sw t1, 0(t0)
park:
    wfi
    j park

# print_string(a0 = NUL-terminated string)
print_string:
    li t0, UART
1:  lbu t1, 0(a0)
    beqz t1, 2f
    sb t1, 0(t0)
    addi a0, a0, 1
    j 1b
2:  ret

# print_hex(a0): 16 hex digits and a newline
print_hex:
    li t0, UART
    li t1, 60
1:  srl t2, a0, t1
    andi t2, t2, 15
    li t3, 10
    blt t2, t3, 2f
    addi t2, t2, 87             # 'a' - 10
    j 3f
2:  addi t2, t2, 48             # '0'
3:  sb t2, 0(t0)
    addi t1, t1, -4
    bgez t1, 1b
    li t2, 10
    sb t2, 0(t0)
    ret

    .section .rodata
label_sieve:  .asciz "sieve primes: "
label_crc:    .asciz "crc32: "
label_matmul: .asciz "matmul sum: "

    .bss
    .align 4
sieve:    .zero SIEVE_N
    .align 4
buffer:   .zero CRC_BYTES
    .align 4
matrix_a: .zero N * N * 8
matrix_b: .zero N * N * 8
matrix_c: .zero N * N * 8
    .align 4
stack:    .zero 4096
stack_top:
