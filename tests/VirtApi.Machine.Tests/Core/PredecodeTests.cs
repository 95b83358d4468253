using System.Text;
using VirtApi.Assembler;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Tests.Differential;

namespace VirtApi.Machine.Tests.Core;

/// <summary>
/// The predecoded-instruction cache (DecodedPageCache): decoded records never outlive the bytes they
/// were decoded from, and running from them is indistinguishable from decoding every instruction as
/// it is fetched, which is what the hart still does when a trace hook is set.
/// </summary>
public sealed class PredecodeTests
{
    private const string PowerOff = """
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
        """;

    private static readonly string Nops = string.Concat(Enumerable.Repeat("    nop\n", 30));

    private static byte[] Assemble(string source)
    {
        var result = RiscVAssembler.Assemble(source);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    [Theory]
    [InlineData("")]
    [InlineData("fence.i")]
    public void StoreToTheNextInstruction_AlreadyExecuted_RunsTheNewInstruction(string fence)
    {
        // The first pass stores the instruction that is there ('E') and runs it; the second stores
        // 'F' over it and runs it straight after. With FENCE.I the new instruction is required
        // (Zifencei); without it the spec allows either, and this machine always runs the new one
        // (QEMU runs the old one here, its translated block already holding it).
        var outcome = GuestProgram.Run(Assemble($$"""
            .globl _start
            _start:
                li s4, 0x10000000
                la s0, p3
                li s1, 0x04500513         # addi a0, zero, 'E'
                li s3, 0x00100000         # + 1 in the immediate
                li s2, 2
            1:  sw s1, 0(s0)
                {{fence}}
            p3: addi a0, zero, 69
                sb a0, 0(s4)
                add s1, s1, s3
                addi s2, s2, -1
                bnez s2, 1b
            {{PowerOff}}
            """));
        Assert.Equal("EF", Encoding.ASCII.GetString(outcome.Console));
    }

    [Fact]
    public void StoreByAnotherHart_ToCodeThisHartDecoded_IsSeenAtItsNextTurn()
    {
        // Hart 0 spins on an instruction that loads 0 until hart 1 rewrites it to load 1.
        var outcome = GuestProgram.Run(Assemble($$"""
            .globl _start
            _start:
                csrr t0, mhartid
                bnez t0, other
                li s0, 0
            1:  addi s0, s0, 1
            {{Nops}}
            spin:
                addi a0, zero, 0
                beqz a0, 1b
                li t0, 0x10000000
                addi a0, a0, 48
                sb a0, 0(t0)
                sltu a1, zero, s0         # hart 0 ran the old instruction at least once
                addi a1, a1, 48
                sb a1, 0(t0)
            {{PowerOff}}
            other:
                li t0, 1000
            2:  addi t0, t0, -1           # let hart 0 decode and run `spin` first
                bnez t0, 2b
                la t0, spin
                li t1, 0x00100513         # addi a0, zero, 1
                sw t1, 0(t0)
            3:  wfi
                j 3b
            """), harts: 2, budget: 1_000_000);
        Assert.Equal("11", Encoding.ASCII.GetString(outcome.Console));
        // Hart 1 stores early in its third turn (1,000-instruction quanta); hart 0 must leave the loop
        // within one iteration of its fourth turn. (The first instruction of every turn is fetched
        // afresh, so a kept copy would show only once a turn began exactly at `spin`.)
        Assert.InRange(outcome.Board.Harts[0].InstructionsRetired, 3000UL, 3000UL + 33 + 20);
    }

    [Fact]
    public void CodeOnMorePagesThanTheCacheHolds_RunsCorrectly_WithTheSameCounts()
    {
        // 2 × 300 visits to 300 pages (more than DecodedPageCache.Pages, so pages are replaced and
        // decoded again), each adding its number to a0.
        const int Pages = 300;
        var source = new StringBuilder("""
            .globl _start
            _start:
                li a0, 0
                li s1, 2
            again:
                j page0
            done:
                addi s1, s1, -1
                bnez s1, again
                li t0, 0x10000000
                sb a0, 0(t0)
                srli a0, a0, 8
                sb a0, 0(t0)
                srli a0, a0, 8
                sb a0, 0(t0)

            """);
        source.AppendLine(PowerOff);
        for (var i = 0; i < Pages; i++)
        {
            source.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"    .balign 4096\npage{i}:\n    addi a0, a0, {i}\n    {(i + 1 < Pages ? $"j page{i + 1}" : "la t0, done\n    jr t0")}");
        }
        var elf = Assemble(source.ToString());
        var fast = GuestProgram.Run(elf);
        var sum = 2 * (Pages - 1) * Pages / 2;
        Assert.Equal(new[] { (byte)sum, (byte)(sum >> 8), (byte)(sum >> 16) }, fast.Console);
        AssertSameRun(GuestProgram.Run(elf, beforeRun: TraceEveryHart(new List<uint>())), fast);
    }

    public static TheoryData<string> Programs() => QemuDifferentialTests.Programs();

    [Theory]
    [MemberData(nameof(Programs))]
    public void Program_RunsTheSame_FromDecodedRecords_AsDecodingEachFetch(string name)
    {
        // A trace hook makes the hart decode every instruction as it fetches it (the path before
        // predecoding): output, retired counts, traps, interrupts, TLB hits and misses and page walks
        // must all be the same, and the hook sees every retired instruction with its bits as fetched.
        var elf = GuestProgram.Assemble(name);
        var fast = GuestProgram.Run(elf);
        var bits = new List<uint>();
        var traced = GuestProgram.Run(elf, beforeRun: TraceEveryHart(bits));
        AssertSameRun(traced, fast);
        Assert.Equal(traced.Instructions, (ulong)bits.Count);
        if (name == "compressed")
        {
            Assert.Contains(bits, b => (b & 3) != 3 && b <= 0xffff);
        }
        Assert.DoesNotContain(bits, b => (b & 3) != 3 && b > 0xffff);
    }

    [Fact]
    public void EveryWayOfWritingRam_DropsTheRecordsItOverlaps()
    {
        var ram = new SparseRam(0x8000_0000, 1UL << 20);
        var bus = new SystemBus(ram);
        ram.Write(0x8000_0000, 8, 0x0010_0513_0010_0513); // two addi a0, zero, 1
        var cache = new DecodedPageCache(ram);
        var page = cache.Get(0, ram.FrameAt(0x8000_0000)!);

        void Decode()
        {
            for (var i = 0; i < 4; i++)
            {
                page.Instructions[i] = DecodedInstruction.Decode(0x00100513);
            }
        }

        Decode();
        ram.Write(0x8000_0006, 1, 0x00); // in the upper half of the second instruction, and of the parcel slot 3 starts
        Assert.Equal([Operation.Addi, Operation.Addi, Operation.Undecoded, Operation.Undecoded], page.Instructions.Take(4).Select(d => d.Operation));

        Decode();
        ram.Load(0x8000_0000, [0x13]); // the loader (and any other copy into RAM)
        Assert.Equal([Operation.Undecoded, Operation.Addi, Operation.Addi, Operation.Addi], page.Instructions.Take(4).Select(d => d.Operation));

        Decode();
        Assert.True(bus.Write(0x8000_0004, 2, 0x0513)); // the bus: harts' stores, SC, AMOs, page-walk A/D updates
        Assert.Equal([Operation.Addi, Operation.Undecoded, Operation.Undecoded, Operation.Addi], page.Instructions.Take(4).Select(d => d.Operation));

        Decode();
        ram.Write(0x8000_1000, 8, 0); // another page
        Assert.All(page.Instructions.Take(4), d => Assert.Equal(Operation.Addi, d.Operation));
    }

    [Fact]
    public void Cache_IsBounded_TwoPagesPerSet_AndFenceIDropsEverything()
    {
        const ulong Second = DecodedPageCache.Sets;
        const ulong Third = 2 * DecodedPageCache.Sets;
        var ram = new SparseRam(0x8000_0000, 4UL << 20);
        foreach (var number in new[] { 0UL, Second, Third })
        {
            ram.Write(0x8000_0000 + (number * 4096), 4, 0x00100513);
        }
        byte[] Frame(ulong number) => ram.FrameAt(0x8000_0000 + (number * 4096))!;

        var cache = new DecodedPageCache(ram);
        var first = cache.Get(0, Frame(0));
        first.Instructions[0] = DecodedInstruction.Decode(0x00100513);
        var second = cache.Get(Second, Frame(Second));
        second.Instructions[0] = DecodedInstruction.Decode(0x00100513);

        // Two frames of one set are both kept: alternating between them decodes nothing again.
        Assert.NotSame(first, second);
        Assert.Same(first, cache.Get(0, Frame(0)));
        Assert.Same(second, cache.Get(Second, Frame(Second)));
        Assert.Equal(Operation.Addi, first.Instructions[0].Operation);

        // A third takes over the page fetched from less recently (frame 0's), its records cleared.
        var third = cache.Get(Third, Frame(Third));
        Assert.Same(first, third);
        Assert.Equal(Third, third.FrameNumber);
        Assert.Equal(Operation.Undecoded, third.Instructions[0].Operation);
        Assert.Equal(Operation.PageEnd, third.Instructions[DecodedPage.Slots - 1].Operation);
        Assert.Same(second, cache.Get(Second, Frame(Second)));

        cache.DropAll();
        Assert.Equal(Operation.Undecoded, cache.Get(Second, Frame(Second)).Instructions[0].Operation);
    }

    [Theory]
    [InlineData(0x00100513u, "Addi", 4)]      // addi a0, zero, 1
    [InlineData(0x4505u, "Addi", 2)]          // c.li a0, 1
    [InlineData(0x0000u, "SlowPath", 2)]      // the all-zero parcel: illegal, trapped on the general path
    [InlineData(0x00000073u, "SlowPath", 4)]  // ecall
    [InlineData(0x0000100fu, "SlowPath", 4)]  // fence.i
    [InlineData(0x0000000fu, "Fence", 4)]     // fence
    [InlineData(0x02b54533u, "Div", 4)]       // div a0, a0, a1
    [InlineData(0x40b51533u, "SlowPath", 4)]  // sll with funct7 0x20: reserved, illegal
    public void Decode_MapsEncodingsToOperations(uint raw, string expected, int length)
    {
        var operation = Enum.Parse<Operation>(expected);
        var decoded = DecodedInstruction.Decode(raw);
        Assert.Equal(operation, decoded.Operation);
        if (operation != Operation.SlowPath)
        {
            Assert.Equal(length == 4, (decoded.Code & DecodedInstruction.FourBytes) != 0);
        }
    }

    private static Action<Board.VirtBoard> TraceEveryHart(List<uint> bits) => board =>
    {
        foreach (var hart in board.Harts)
        {
            hart.Trace = (_, _, raw, _) => bits.Add(raw);
        }
    };

    private static void AssertSameRun(GuestProgram.Outcome expected, GuestProgram.Outcome actual)
    {
        Assert.Equal(expected.Console, actual.Console);
        Assert.Equal(expected.Reason, actual.Reason);
        Assert.Equal(expected.ExitCode, actual.ExitCode);
        Assert.Equal(expected.Instructions, actual.Instructions);
        for (var i = 0; i < expected.Board.Harts.Count; i++)
        {
            var e = expected.Board.Harts[i];
            var a = actual.Board.Harts[i];
            Assert.Equal(e.InstructionsRetired, a.InstructionsRetired);
            Assert.Equal(e.Pc, a.Pc);
            Assert.Equal(e.Counters.RetiredByPrivilege, a.Counters.RetiredByPrivilege);
            Assert.Equal(e.Counters.Exceptions, a.Counters.Exceptions);
            Assert.Equal(e.Counters.Interrupts, a.Counters.Interrupts);
            Assert.Equal(e.Counters.TlbHits, a.Counters.TlbHits);
            Assert.Equal(e.Counters.TlbMisses, a.Counters.TlbMisses);
            Assert.Equal(e.Counters.PageWalks, a.Counters.PageWalks);
            for (var r = 0; r < 32; r++)
            {
                Assert.Equal(e[r], a[r]);
            }
        }
    }
}
