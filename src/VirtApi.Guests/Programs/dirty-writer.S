# dirty-writer: the live-migration guest: reads "P W D" on the console, touches P pages, makes W page writes with D delay-loop turns after each, prints an FNV-1a checksum of the pages; exits 0 (1 on bad input).
#
# Hart 0 alone, in M-mode, bare (the others wait in wfi for ever). Needs 256 MiB of RAM for P = 61440.
# 1. "dirty-writer: ready" on the UART (16550 at 0x1000_0000, polling LSR.THRE).
# 2. One line "P W D": three unsigned decimal numbers, single spaces between, ended by "\n" or "\r".
#    P = pages (4 KiB) in the working set, 1 to MAX_PAGES; W = page writes, D = delay-loop turns
#    after each write, each 0 to 2^32. Anything else prints "dirty-writer: bad input" and powers
#    off with failure code 1, as soon as the line cannot be well formed any more.
#    While no byte is there the hart waits in wfi with the UART's receive interrupt enabled (IER.ERBFI,
#    PLIC source 10 at priority 1 over threshold 0 for hart 0's M-mode context, mie.MEIE) and
#    mstatus.MIE clear: the interrupt wakes wfi without trapping, and the board is idle meanwhile.
# 3. Touch: page p of the buffer at BUFFER gets p in its first doubleword; "dirty-writer: touched P pages".
# 4. Write: xorshift64 s from XORSHIFT_SEED (s ^= s << 13; s ^= s >> 7; s ^= s << 17). Write i
#    (0 to W - 1) stores the next s in page i mod P at byte ((i / P) * 8) mod 4096, so each sweep over
#    the pages hits new doublewords; then D turns of a one-instruction delay loop. A write costs
#    21 + 2D instructions, whatever i (the end of a sweep is handled without a branch).
#    "dirty-writer: wrote W pages".
# 5. Checksum: FNV-1a over the doublewords of the P pages in order (h = (h ^ w) * FNV_PRIME, 64-bit);
#    "dirty-writer: checksum 0x<16 lowercase hex digits>", then power off with success.
# A trap (a buffer beyond the end of RAM, say) prints "dirty-writer: trap 0x<mcause>" and fails with 1.
    .equ UART, 0x10000000
    .equ UART_IER, 1
    .equ UART_LSR, 5
    .equ IER_RECEIVED_DATA, 1
    .equ LSR_DATA_READY, 0x01
    .equ LSR_THRE, 0x20
    .equ UART_IRQ, 10                # PLIC source of the UART on the virt board
    .equ PLIC_PRIORITY, 0x0c000000   # + 4 * source
    .equ PLIC_ENABLE, 0x0c002000     # context 0: hart 0, M-mode
    .equ PLIC_THRESHOLD, 0x0c200000  # context 0
    .equ PLIC_CLAIM, 0x0c200004      # context 0: read to claim, write to complete
    .equ MIE_MEIE, 0x800
    .equ FINISHER, 0x100000
    .equ FINISH_PASS, 0x5555
    .equ FINISH_FAIL, (1 << 16) | 0x3333
    .equ BUFFER, 0x80200000          # the working set, above this image (which stays below 2 MiB)
    .equ PAGE, 4096
    .equ MAX_PAGES, 61440            # 240 MiB: BUFFER plus this stays inside 256 MiB of RAM
    .equ MAX_COUNT, 0x100000000      # 2^32, the largest W and D
    .equ XORSHIFT_SEED, 0x9e3779b97f4a7c15
    .equ FNV_BASIS, 0xcbf29ce484222325
    .equ FNV_PRIME, 0x100000001b3

    .text
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
    la sp, stack_top
    la t0, trap
    csrw mtvec, t0
    li t0, UART                      # the UART's receive interrupt, to wake wfi
    li t1, IER_RECEIVED_DATA
    sb t1, UART_IER(t0)
    li t0, PLIC_PRIORITY + 4 * UART_IRQ
    li t1, 1
    sw t1, 0(t0)
    li t0, PLIC_ENABLE
    li t1, 1 << UART_IRQ
    sw t1, 0(t0)
    li t0, PLIC_THRESHOLD
    sw zero, 0(t0)
    li t0, MIE_MEIE
    csrw mie, t0                     # mstatus.MIE stays clear: wfi wakes, nothing traps
    la a0, s_ready
    call puts

    li a0, 32                        # "P W D", each number up to a space
    call get_number
    bnez a1, bad_input
    mv s1, a0                        # s1: P
    li a0, 32
    call get_number
    bnez a1, bad_input
    mv s2, a0                        # s2: W
    li a0, 10                        # the last one up to the end of the line
    call get_number
    bnez a1, bad_input
    mv s3, a0                        # s3: D
    beqz s1, bad_input
    li t0, MAX_PAGES
    bgtu s1, t0, bad_input

    li s0, BUFFER                    # s0: the first page
    li s5, PAGE
    addi s6, s5, -1                  # s6: offsets within a page wrap at 4096
    slli s7, s1, 12                  # s7: the bytes of P pages
    add s8, s0, s7                   # s8: the end of the last page

    mv t0, s0                        # touch: page p holds p
    li t1, 0
1:  sd t1, 0(t0)
    addi t1, t1, 1
    add t0, t0, s5
    bne t0, s8, 1b
    la a0, s_touched
    call puts
    mv a0, s1
    call put_dec
    la a0, s_pages
    call puts

    li s4, XORSHIFT_SEED             # write: s4 the xorshift state
    mv a2, s0                        # a2: this write's page
    li a4, 0                         # a4: this sweep's offset within a page
    mv a5, s2                        # a5: writes to go
    beqz a5, 4f
1:  slli t0, s4, 13
    xor s4, s4, t0
    srli t0, s4, 7
    xor s4, s4, t0
    slli t0, s4, 17
    xor s4, s4, t0
    add t1, a2, a4
    sd s4, 0(t1)
    add a2, a2, s5                   # the next page; past the last one, the first at the next offset
    xor t2, a2, s8
    seqz t2, t2                      # 1 at the end of a sweep
    slli t3, t2, 3
    add a4, a4, t3
    and a4, a4, s6
    neg t2, t2
    and t2, t2, s7
    sub a2, a2, t2
    mv t0, s3                        # the delay
    beqz t0, 3f
2:  addi t0, t0, -1
    bnez t0, 2b
3:  addi a5, a5, -1
    bnez a5, 1b
4:  la a0, s_wrote
    call puts
    mv a0, s2
    call put_dec
    la a0, s_pages
    call puts

    li a0, FNV_BASIS                 # checksum
    li t2, FNV_PRIME
    mv t0, s0
1:  ld t1, 0(t0)
    xor a0, a0, t1
    mul a0, a0, t2
    addi t0, t0, 8
    bne t0, s8, 1b
    mv s9, a0
    la a0, s_checksum
    call puts
    mv a0, s9
    call put_hex
    li a0, 10
    call putc
    li t0, FINISHER
    li t1, FINISH_PASS
    sw t1, 0(t0)
park:
    wfi
    j park

bad_input:
    la a0, s_bad_input
    call puts
fail:
    li t0, FINISHER
    li t1, FINISH_FAIL
    sw t1, 0(t0)
    j park

# trap: nothing here should trap; say what did and fail
trap:
    la a0, s_trap
    call puts
    csrr a0, mcause
    call put_hex
    li a0, 10
    call putc
    j fail

# ---- console ---------------------------------------------------------------------------------------

# get_number(a0 = the character that must end it: 32 for a space, or 10 for "\n" or "\r") -> a0 = its value,
# a1 = 0, or a1 = 1 when what came is not digits (at least one, a value up to MAX_COUNT) and that end
get_number:
    addi sp, sp, -32
    sd ra, 24(sp)
    sd s0, 16(sp)
    sd s1, 8(sp)
    sd s2, 0(sp)
    mv s2, a0
    li s0, 0                         # the value so far
    li s1, 0                         # digits
1:  call getc
    addi t0, a0, -48                 # '0'
    li t1, 10
    bgeu t0, t1, 2f
    mul s0, s0, t1
    add s0, s0, t0
    addi s1, s1, 1
    li t1, MAX_COUNT
    bgtu s0, t1, 8f
    j 1b
2:  beqz s1, 8f
    beq a0, s2, 3f
    li t1, 10                        # "\r" (13) ends a line as "\n" (10) does
    bne s2, t1, 8f
    li t1, 13
    bne a0, t1, 8f
3:  mv a0, s0
    li a1, 0
    j 9f
8:  li a1, 1
9:  ld ra, 24(sp)
    ld s0, 16(sp)
    ld s1, 8(sp)
    ld s2, 0(sp)
    addi sp, sp, 32
    ret

# getc() -> a0: the next received byte. With none there, it waits in wfi once the PLIC holds nothing
# pending: whatever is, it claims and completes (a gateway that latches is then ready to signal
# again) and looks at LSR again first, as the byte may have come since, and a PLIC that does not
# look at the line again on completion (QEMU 7.2) would not signal it a second time.
getc:
    li t0, UART
    li t2, PLIC_CLAIM
1:  lbu t1, UART_LSR(t0)
    andi t1, t1, LSR_DATA_READY
    bnez t1, 3f
    lw t1, 0(t2)
    beqz t1, 2f
    sw t1, 0(t2)
    j 1b
2:  wfi
    j 1b
3:  lbu a0, 0(t0)
    ret

# putc(a0 = character), once the transmitter holding register is empty
putc:
    li t0, UART
1:  lbu t1, UART_LSR(t0)
    andi t1, t1, LSR_THRE
    beqz t1, 1b
    sb a0, 0(t0)
    ret

# puts(a0 = string)
puts:
    li t0, UART
1:  lbu t1, 0(a0)
    beqz t1, 3f
2:  lbu t2, UART_LSR(t0)
    andi t2, t2, LSR_THRE
    beqz t2, 2b
    sb t1, 0(t0)
    addi a0, a0, 1
    j 1b
3:  ret

# put_dec(a0): unsigned decimal
put_dec:
    addi sp, sp, -32
    sd ra, 24(sp)
    addi t0, sp, 23                  # digits backwards from here, NUL-terminated
    sb zero, 0(t0)
    li t1, 10
1:  remu t2, a0, t1
    divu a0, a0, t1
    addi t2, t2, 48                  # '0'
    addi t0, t0, -1
    sb t2, 0(t0)
    bnez a0, 1b
    mv a0, t0
    call puts
    ld ra, 24(sp)
    addi sp, sp, 32
    ret

# put_hex(a0): 16 lowercase hexadecimal digits, in the same instructions whatever they are
put_hex:
    addi sp, sp, -32
    sd ra, 24(sp)
    addi t0, sp, 16                  # the digits at sp + 0 to 15, NUL at 16
    sb zero, 0(t0)
1:  andi t2, a0, 15
    sltiu t1, t2, 10
    addi t1, t1, -1                  # 0 for 0-9, all ones for a-f
    andi t1, t1, 39                  # 'a' - '0' - 10
    add t2, t2, t1
    addi t2, t2, 48                  # '0'
    addi t0, t0, -1
    sb t2, 0(t0)
    srli a0, a0, 4
    bne t0, sp, 1b
    mv a0, sp
    call puts
    ld ra, 24(sp)
    addi sp, sp, 32
    ret

    .section .rodata
s_ready: .asciz "dirty-writer: ready\n"
s_bad_input: .asciz "dirty-writer: bad input\n"
s_touched: .asciz "dirty-writer: touched "
s_wrote: .asciz "dirty-writer: wrote "
s_pages: .asciz " pages\n"
s_checksum: .asciz "dirty-writer: checksum 0x"
s_trap: .asciz "dirty-writer: trap 0x"

    .bss
    .align 4
stack: .zero 4096
stack_top:
