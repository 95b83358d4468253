using VirtApi.Machine.Bus;

namespace VirtApi.Machine.Devices;

/// <summary>What the CLINT needs from the board: the time and the harts it drives.</summary>
public interface IClintPlatform
{
    ulong Time { get; }

    int HartCount { get; }

    /// <summary>MSIP of hart <paramref name="hart"/> changed.</summary>
    void SoftwareInterrupt(int hart, bool level);

    /// <summary>mtimecmp of hart <paramref name="hart"/> changed: its timer must be re-evaluated.</summary>
    void TimerCompareChanged(int hart);
}

/// <summary>
/// The core-local interruptor at 0x0200_0000 in QEMU virt's layout (SiFive CLINT): <c>msip</c> at
/// 4 × hart, <c>mtimecmp</c> at 0x4000 + 8 × hart, <c>mtime</c> at 0xbff8. mtime is the board's virtual
/// clock, which advances with retired instructions; writes to it are ignored.
/// </summary>
public sealed class Clint : IMmioDevice
{
    public const ulong Size = 0x10000;
    private readonly IClintPlatform _platform;
    private readonly uint[] _msip;

    public Clint(IClintPlatform platform)
    {
        _platform = platform;
        _msip = new uint[platform.HartCount];
        TimerCompare = new ulong[platform.HartCount];
        Array.Fill(TimerCompare, ulong.MaxValue);
    }

    /// <summary><c>mtimecmp</c> per hart (reset value all ones: no timer armed).</summary>
    public ulong[] TimerCompare { get; }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (offset < 0x4000)
        {
            var hart = (int)(offset / 4);
            if (size != 4 || offset % 4 != 0 || hart >= _msip.Length)
            {
                return false;
            }
            value = _msip[hart];
            return true;
        }
        if (offset >= 0xbff8)
        {
            return ReadWide(_platform.Time, offset - 0xbff8, size, out value);
        }
        var index = (int)((offset - 0x4000) / 8);
        return index < TimerCompare.Length && ReadWide(TimerCompare[index], (offset - 0x4000) % 8, size, out value);
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (offset < 0x4000)
        {
            var hart = (int)(offset / 4);
            if (size != 4 || offset % 4 != 0 || hart >= _msip.Length)
            {
                return false;
            }
            _msip[hart] = (uint)value & 1;
            _platform.SoftwareInterrupt(hart, _msip[hart] != 0);
            return true;
        }
        if (offset >= 0xbff8)
        {
            return size is 4 or 8;
        }
        var index = (int)((offset - 0x4000) / 8);
        if (index >= TimerCompare.Length || size is not (4 or 8))
        {
            return false;
        }
        var within = (int)((offset - 0x4000) % 8);
        if (size == 8 && within == 0)
        {
            TimerCompare[index] = value;
        }
        else if (size == 4 && within is 0 or 4)
        {
            var shift = within * 8;
            TimerCompare[index] = (TimerCompare[index] & ~(0xffff_ffffUL << shift)) | ((value & 0xffff_ffff) << shift);
        }
        else
        {
            return false;
        }
        _platform.TimerCompareChanged(index);
        return true;
    }

    /// <summary>The registers, for a snapshot.</summary>
    public ClintState Save() => new() { Msip = [.. _msip], TimerCompare = [.. TimerCompare] };

    /// <summary>
    /// A CLINT holding <paramref name="state"/>'s registers. It drives nothing while restoring: the
    /// harts it would drive are restored after it, with their MSIP bits saved in their CSR files, and
    /// recompute their timer lines from these compare values.
    /// </summary>
    public static Clint Restore(ClintArgs args, ClintState state)
    {
        var clint = new Clint(args.Platform);
        StateArrays.CopyInto(state.Msip, clint._msip, nameof(state.Msip));
        StateArrays.CopyInto(state.TimerCompare, clint.TimerCompare, nameof(state.TimerCompare));
        return clint;
    }

    private static bool ReadWide(ulong register, ulong within, int size, out ulong value)
    {
        value = 0;
        if (size == 8 && within == 0)
        {
            value = register;
            return true;
        }
        if (size == 4 && within is 0 or 4)
        {
            value = (register >> (int)(within * 8)) & 0xffff_ffff;
            return true;
        }
        return false;
    }
}
