# virtio-blk: a minimal virtio-blk driver for the virtio-mmio transport in slot 0 (0x10001000,
# PLIC source 1). It checks the transport's identity, negotiates VIRTIO_F_VERSION_1 and
# VIRTIO_BLK_F_FLUSH, sets up request queue 0 (16 entries), then in three batches of one
# notification each: writes sectors 2 and 3; flushes; reads them back (into two descriptors of 700
# and 324 bytes), reads sector 0, asks for the device ID, reads past the end (IOERR) and sends an
# unknown request type (UNSUPP). It waits for completions in wfi on the device's interrupt (mstatus.MIE
# clear, so no trap is taken), prints statuses, the sum of used lengths (completion order does not
# change it), checksums and the ID, and resets the device. The disk is 128 sectors whose byte j
# is (7j + 1) mod 256; its serial is "virtapi-disk".
    .equ VIRTIO, 0x10001000
    .equ PLIC, 0x0c000000
    .equ QUEUE_SIZE, 16
    .equ T_IN, 0
    .equ T_OUT, 1
    .equ T_FLUSH, 4
    .equ T_GET_ID, 8
    .equ F_NEXT, 1
    .equ F_WRITE, 2
main:
    addi sp, sp, -32
    sd ra, 24(sp)
    sd s0, 16(sp)
    sd s1, 8(sp)
    li s0, VIRTIO
    # Identity (virtio 1.2 §4.2.3.1): magic "virt", version 2, device 2 (block), vendor
    la a0, m_magic
    lwu a1, 0(s0)
    call show
    la a0, m_version
    lwu a1, 4(s0)
    call show
    la a0, m_device
    lwu a1, 8(s0)
    call show
    la a0, m_vendor
    lwu a1, 12(s0)
    call show
    # Reset, ACKNOWLEDGE, DRIVER (§3.1.1)
    sw zero, 0x70(s0)
    li t0, 1
    sw t0, 0x70(s0)
    li t0, 3
    sw t0, 0x70(s0)
    # Features: of word 0 only VIRTIO_BLK_F_FLUSH (bit 9), of word 1 only VIRTIO_F_VERSION_1 (bit 32)
    sw zero, 0x14(s0)
    lw t1, 0x10(s0)
    andi t1, t1, 1 << 9
    sw zero, 0x24(s0)
    sw t1, 0x20(s0)
    li t0, 1
    sw t0, 0x14(s0)
    lw t1, 0x10(s0)
    andi t1, t1, 1
    sw t0, 0x24(s0)
    sw t1, 0x20(s0)
    li t0, 11                   # FEATURES_OK, read back: still set if the device accepted
    sw t0, 0x70(s0)
    la a0, m_status
    lwu a1, 0x70(s0)
    call show
    # Queue 0 (§4.2.3.2): not in use yet, 16 entries, the three areas, ready
    sw zero, 0x30(s0)
    la a0, m_ready
    lwu a1, 0x44(s0)
    call show
    li t0, QUEUE_SIZE
    sw t0, 0x38(s0)
    la t0, vq_desc
    sw t0, 0x80(s0)
    srli t0, t0, 32
    sw t0, 0x84(s0)
    la t0, vq_avail
    sw t0, 0x90(s0)
    srli t0, t0, 32
    sw t0, 0x94(s0)
    la t0, vq_used
    sw t0, 0xa0(s0)
    srli t0, t0, 32
    sw t0, 0xa4(s0)
    li t0, 1
    sw t0, 0x44(s0)
    li t0, 15                   # DRIVER_OK
    sw t0, 0x70(s0)
    la a0, m_status
    lwu a1, 0x70(s0)
    call show
    # capacity (§5.2.4): a 64-bit field read as two 32-bit halves
    lwu t0, 0x100(s0)
    lwu t1, 0x104(s0)
    slli t1, t1, 32
    or s1, t0, t1
    la a0, m_capacity
    mv a1, s1
    call show
    # The device's interrupt: PLIC source 1, priority 1, enabled for hart 0's M context, MEIE
    li t0, PLIC + 4
    li t1, 1
    sw t1, 0(t0)
    li t0, PLIC + 0x2000
    li t1, 1 << 1
    sw t1, 0(t0)
    li t0, PLIC + 0x200000
    sw zero, 0(t0)
    li t0, 1 << 11
    csrs mie, t0
    # Sectors 2 and 3 to write: byte i is 13i + 7
    la t0, wbuf
    li t1, 0
    li t2, 1024
1:  li t3, 13
    mul t3, t1, t3
    addi t3, t3, 7
    sb t3, 0(t0)
    addi t0, t0, 1
    addi t1, t1, 1
    bne t1, t2, 1b

    # Batch 1: write sector 2, write sector 3
    call clear_status
    la a0, hdr0
    li a1, T_OUT
    li a2, 2
    call set_hdr
    la a0, hdr1
    li a1, T_OUT
    li a2, 3
    call set_hdr
    li a0, 0
    la a1, hdr0
    li a2, 16
    li a3, F_NEXT | (1 << 16)
    call set_desc
    li a0, 1
    la a1, wbuf
    li a2, 512
    li a3, F_NEXT | (2 << 16)
    call set_desc
    li a0, 2
    la a1, st
    li a2, 1
    li a3, F_WRITE
    call set_desc
    li a0, 3
    la a1, hdr1
    li a2, 16
    li a3, F_NEXT | (4 << 16)
    call set_desc
    li a0, 4
    la a1, wbuf + 512
    li a2, 512
    li a3, F_NEXT | (5 << 16)
    call set_desc
    li a0, 5
    la a1, st + 1
    li a2, 1
    li a3, F_WRITE
    call set_desc
    li a0, 0
    call offer
    li a0, 3
    call offer
    li a0, 0
    li a1, 2
    la a2, m_write
    call run_batch

    # Batch 2: flush
    call clear_status
    la a0, hdr0
    li a1, T_FLUSH
    li a2, 0
    call set_hdr
    li a0, 0
    la a1, hdr0
    li a2, 16
    li a3, F_NEXT | (1 << 16)
    call set_desc
    li a0, 1
    la a1, st
    li a2, 1
    li a3, F_WRITE
    call set_desc
    li a0, 0
    call offer
    li a0, 2
    li a1, 1
    la a2, m_flush
    call run_batch

    # Batch 3: read sectors 2-3 back (700 + 324 bytes), read sector 0, GET_ID, read past the end, type 99
    call clear_status
    la a0, hdr0
    li a1, T_IN
    li a2, 2
    call set_hdr
    la a0, hdr1
    li a1, T_IN
    li a2, 0
    call set_hdr
    la a0, hdr2
    li a1, T_GET_ID
    li a2, 0
    call set_hdr
    la a0, hdr3
    li a1, T_IN
    mv a2, s1                   # the first sector past the end
    call set_hdr
    la a0, hdr4
    li a1, 99
    li a2, 0
    call set_hdr
    li a0, 0
    la a1, hdr0
    li a2, 16
    li a3, F_NEXT | (1 << 16)
    call set_desc
    li a0, 1
    la a1, rbuf
    li a2, 700
    li a3, F_NEXT | F_WRITE | (2 << 16)
    call set_desc
    li a0, 2
    la a1, rbuf + 700
    li a2, 324
    li a3, F_NEXT | F_WRITE | (3 << 16)
    call set_desc
    li a0, 3
    la a1, st
    li a2, 1
    li a3, F_WRITE
    call set_desc
    li a0, 4
    la a1, hdr1
    li a2, 16
    li a3, F_NEXT | (5 << 16)
    call set_desc
    li a0, 5
    la a1, sbuf
    li a2, 512
    li a3, F_NEXT | F_WRITE | (6 << 16)
    call set_desc
    li a0, 6
    la a1, st + 1
    li a2, 1
    li a3, F_WRITE
    call set_desc
    li a0, 7
    la a1, hdr2
    li a2, 16
    li a3, F_NEXT | (8 << 16)
    call set_desc
    li a0, 8
    la a1, idbuf
    li a2, 20
    li a3, F_NEXT | F_WRITE | (9 << 16)
    call set_desc
    li a0, 9
    la a1, st + 2
    li a2, 1
    li a3, F_WRITE
    call set_desc
    li a0, 10
    la a1, hdr3
    li a2, 16
    li a3, F_NEXT | (11 << 16)
    call set_desc
    li a0, 11
    la a1, xbuf
    li a2, 512
    li a3, F_NEXT | F_WRITE | (12 << 16)
    call set_desc
    li a0, 12
    la a1, st + 3
    li a2, 1
    li a3, F_WRITE
    call set_desc
    li a0, 13
    la a1, hdr4
    li a2, 16
    li a3, F_NEXT | (14 << 16)
    call set_desc
    li a0, 14
    la a1, st + 4
    li a2, 1
    li a3, F_WRITE
    call set_desc
    li a0, 0
    call offer
    li a0, 4
    call offer
    li a0, 7
    call offer
    li a0, 10
    call offer
    li a0, 13
    call offer
    li a0, 3
    li a1, 5
    la a2, m_read
    call run_batch

    la a0, rbuf
    li a1, 1024
    call fnv
    mv a1, a0
    la a0, m_readsum
    call show
    la a0, wbuf
    li a1, 1024
    call fnv
    mv a1, a0
    la a0, m_writesum
    call show
    la a0, sbuf
    li a1, 512
    call fnv
    mv a1, a0
    la a0, m_sector0
    call show
    la a0, m_id
    call puts
    la a0, idbuf
    call puts
    li a0, 10
    call putc

    # Acknowledge what is left (§4.2.3.4), complete it at the PLIC, reset the device
    lw t0, 0x60(s0)
    sw t0, 0x64(s0)
    li t0, PLIC + 0x200004
    lw t1, 0(t0)
    sw t1, 0(t0)
    la a0, m_interrupt
    lwu a1, 0x60(s0)
    call show
    sw zero, 0x70(s0)
    la a0, m_status
    lwu a1, 0x70(s0)
    call show
    li a0, 0
    ld ra, 24(sp)
    ld s0, 16(sp)
    ld s1, 8(sp)
    addi sp, sp, 32
    ret

# set_hdr(a0 = header, a1 = type, a2 = sector): struct virtio_blk_req's first 16 bytes (§5.2.6)
set_hdr:
    sw a1, 0(a0)
    sw zero, 4(a0)
    sd a2, 8(a0)
    ret

# set_desc(a0 = index, a1 = address, a2 = length, a3 = flags | next << 16): struct virtq_desc (§2.7.5)
set_desc:
    la t0, vq_desc
    slli t1, a0, 4
    add t0, t0, t1
    sd a1, 0(t0)
    sw a2, 8(t0)
    sw a3, 12(t0)
    ret

# offer(a0 = head): the chain's head into the next available ring slot, not yet published (§2.7.13.2)
offer:
    la t0, avail_next
    ld t1, 0(t0)
    andi t2, t1, QUEUE_SIZE - 1
    slli t2, t2, 1
    la t3, vq_avail
    add t3, t3, t2
    sh a0, 4(t3)
    addi t1, t1, 1
    sd t1, 0(t0)
    ret

# clear_status: the five status bytes to 0xff, so that each printed one was written by the device
clear_status:
    la t0, st
    li t1, 0xff
    sb t1, 0(t0)
    sb t1, 1(t0)
    sb t1, 2(t0)
    sb t1, 3(t0)
    sb t1, 4(t0)
    ret

# run_batch(a0 = used index before, a1 = requests, a2 = label): publishes the offered heads, notifies
# once, waits for the used ring, then prints "label statuses" (status i in byte i) and the sum of the
# used lengths of this batch.
run_batch:
    addi sp, sp, -48
    sd ra, 40(sp)
    sd s2, 32(sp)
    sd s3, 24(sp)
    sd s4, 16(sp)
    mv s2, a0
    mv s3, a1
    mv s4, a2
    la t0, avail_next           # publish: ring entries before idx (§2.7.13.3), then notify (§2.7.13.4)
    ld t1, 0(t0)
    la t0, vq_avail
    fence
    sh t1, 2(t0)
    fence
    sw zero, 0x50(s0)
    add a0, s2, s3
1:  la t0, vq_used              # wait until used.idx reaches a0, taking the device's interrupts
    lhu t1, 2(t0)
    beq t1, a0, 2f
    wfi
    li t2, PLIC + 0x200004
    lw t3, 0(t2)                # claim
    lw t4, 0x60(s0)             # InterruptStatus
    sw t4, 0x64(s0)             # InterruptACK
    sw t3, 0(t2)                # complete
    j 1b
2:  fence
    li a1, 0                    # statuses, byte i = request i's
    la t0, st
    add t0, t0, s3
    mv t1, s3
3:  addi t0, t0, -1
    lbu t2, 0(t0)
    slli a1, a1, 8
    or a1, a1, t2
    addi t1, t1, -1
    bnez t1, 3b
    mv a0, s4
    call show
    li a1, 0                    # the used lengths of used[s2 .. s2 + s3)
    mv t1, s2
    add t2, s2, s3
4:  andi t3, t1, QUEUE_SIZE - 1
    slli t3, t3, 3
    la t0, vq_used
    add t0, t0, t3
    lwu t3, 8(t0)
    add a1, a1, t3
    addi t1, t1, 1
    bne t1, t2, 4b
    la a0, m_used
    call show
    ld ra, 40(sp)
    ld s2, 32(sp)
    ld s3, 24(sp)
    ld s4, 16(sp)
    addi sp, sp, 48
    ret

# fnv(a0 = address, a1 = length) -> a0: 64-bit FNV-1a of the bytes
fnv:
    li t0, 0xcbf29ce484222325
    li t1, 0x100000001b3
1:  beqz a1, 2f
    lbu t2, 0(a0)
    xor t0, t0, t2
    mul t0, t0, t1
    addi a0, a0, 1
    addi a1, a1, -1
    j 1b
2:  mv a0, t0
    ret

    .section .rodata
m_magic: .asciz "magic"
m_version: .asciz "version"
m_device: .asciz "device"
m_vendor: .asciz "vendor"
m_status: .asciz "status"
m_ready: .asciz "ready"
m_capacity: .asciz "capacity"
m_write: .asciz "write"
m_flush: .asciz "flush"
m_read: .asciz "read"
m_used: .asciz "used"
m_readsum: .asciz "read-sum"
m_writesum: .asciz "write-sum"
m_sector0: .asciz "sector0-sum"
m_id: .asciz "id "
m_interrupt: .asciz "interrupt"

    .data
    .align 3
avail_next: .dword 0

    .bss
    .align 12
vq_desc: .zero 16 * QUEUE_SIZE
vq_avail: .zero 6 + 2 * QUEUE_SIZE
    .align 2
vq_used: .zero 6 + 8 * QUEUE_SIZE
    .align 4
hdr0: .zero 16
hdr1: .zero 16
hdr2: .zero 16
hdr3: .zero 16
hdr4: .zero 16
st: .zero 8
idbuf: .zero 24
wbuf: .zero 1024
rbuf: .zero 1024
sbuf: .zero 512
xbuf: .zero 512
