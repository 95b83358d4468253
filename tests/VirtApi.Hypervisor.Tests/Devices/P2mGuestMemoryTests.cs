using VirtApi.Hypervisor.Memory;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Tests.Devices;

/// <summary>
/// A device's DMA under the VMM goes through the P2M: it reaches the guest's own frames wherever they
/// landed, and nothing else (a malicious descriptor cannot name the VMM's frames or another guest's).
/// </summary>
public sealed class P2mGuestMemoryTests
{
    private const ulong Base = 0x8000_0000;
    private const ulong GuestBytes = 16 * SparseRam.FrameSize;

    // Machine memory: the guest's pool, then 16 frames that are not the guest's (say, the VMM's shadow pool).
    private readonly SparseRam _ram = new(Base, 2 * GuestBytes);
    private readonly P2mMap _p2m;
    private readonly P2mGuestMemory _memory;

    public P2mGuestMemoryTests()
    {
        _p2m = new P2mMap(Base, GuestBytes, new MachineFramePool(_ram, Base, GuestBytes));
        _memory = new P2mGuestMemory(_p2m, _ram);
    }

    [Fact]
    public void AWriteAcrossTwoGuestFramesLandsInEachOnesMachineFrame()
    {
        // Touch frames 5 and 9 first, so guest frames 4 and 5 get machine frames that are not neighbours.
        Assert.True(_p2m.TryTranslate(Base + (5 * SparseRam.FrameSize), out _));
        Assert.True(_p2m.TryTranslate(Base + (9 * SparseRam.FrameSize), out _));
        var bytes = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();

        Assert.True(_memory.TryWrite(Base + (5 * SparseRam.FrameSize) - 8, bytes));

        Assert.True(_p2m.TryLookup(Base + (5 * SparseRam.FrameSize) - 8, out var low));
        Assert.True(_p2m.TryLookup(Base + (5 * SparseRam.FrameSize), out var high));
        Assert.NotEqual(low + 8, high);
        var back = new byte[16];
        Assert.True(_memory.TryRead(Base + (5 * SparseRam.FrameSize) - 8, back));
        Assert.Equal(bytes, back);
        Assert.Equal(1UL, _ram.Read(low, 1));
        Assert.Equal(9UL, _ram.Read(high, 1));
    }

    [Fact]
    public void AReadOfAnUntouchedFrameIsZerosAndTakesNoFrame()
    {
        var back = new byte[64];
        back.AsSpan().Fill(0xee);

        Assert.True(_memory.TryRead(Base + (9 * SparseRam.FrameSize), back));

        Assert.All(back, b => Assert.Equal(0, b));
        Assert.Equal(0UL, _p2m.FramesAllocated);
    }

    [Theory]
    [InlineData(Base + GuestBytes - 2, 4)] // runs off the end of guest RAM
    [InlineData(Base + GuestBytes, 1)] // the first frame that is not the guest's
    [InlineData(Base - 1, 2)] // below guest RAM
    [InlineData(ulong.MaxValue - 1, 8)] // wraps around
    public void NothingOutsideTheGuestsRamCanBeReadOrWritten(ulong address, int length)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(0x5a);

        Assert.False(_memory.TryWrite(address, bytes));
        Assert.False(_memory.TryRead(address, bytes));

        Assert.Equal(0UL, _ram.FramesTouched);
        Assert.Equal(0UL, _p2m.FramesAllocated);
    }
}
