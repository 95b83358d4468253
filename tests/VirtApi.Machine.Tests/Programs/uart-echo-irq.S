# uart-echo-irq: waits in wfi for UART input (PLIC source 10 to hart 0's M context); the handler
# claims, echoes the FIFO byte by byte, completes, and powers off at '.'. Standalone (no prelude).
    .globl _start
_start:
    la t0, handler
    csrw mtvec, t0
    li t0, 0x0c000028         # priority of source 10
    li t1, 1
    sw t1, 0(t0)
    li t0, 0x0c002000         # context 0 (hart 0, M) enables
    li t1, 1 << 10
    sw t1, 0(t0)
    li t0, 0x10000001         # UART IER: received data available
    li t1, 1
    sb t1, 0(t0)
    li t0, 1 << 11
    csrs mie, t0              # MEIE
    csrsi mstatus, 8
1:  wfi
    j 1b
handler:
    li t0, 0x0c200004         # claim
    lw t1, 0(t0)
    li t2, 0x10000000
2:  lbu t3, 5(t2)             # drain the FIFO, echoing
    andi t3, t3, 1
    beqz t3, 3f
    lbu t4, 0(t2)
    sb t4, 0(t2)
    li t5, 46
    beq t4, t5, 4f
    j 2b
3:  sw t1, 0(t0)              # complete
    mret
4:  li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
