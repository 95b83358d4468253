using System.Numerics;
using System.Runtime.CompilerServices;

namespace VirtApi.Machine.Memory;

/// <summary>
/// One bit per 4 KiB frame (frame n is bit n % 64 of word n / 64): RAM's decoded and dirty frames, a
/// P2M's log-dirty bits.
/// </summary>
public static class FrameBitmap
{
    /// <summary>A bitmap for <paramref name="frames"/> frames, all clear.</summary>
    public static ulong[] Create(ulong frames) => new ulong[(frames + 63) / 64];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSet(ulong[] bits, ulong frameNumber) => (bits[frameNumber >> 6] & (1UL << (int)frameNumber)) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(ulong[] bits, ulong frameNumber) => bits[frameNumber >> 6] |= 1UL << (int)frameNumber;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Reset(ulong[] bits, ulong frameNumber) => bits[frameNumber >> 6] &= ~(1UL << (int)frameNumber);

    /// <summary>The frames whose bits are set, as addresses of their first bytes from <paramref name="baseAddress"/>, in order; every bit is cleared.</summary>
    public static IReadOnlyList<ulong> Drain(ulong[] bits, ulong baseAddress)
    {
        var frames = new List<ulong>();
        for (var word = 0; word < bits.Length; word++)
        {
            var set = bits[word];
            bits[word] = 0;
            while (set != 0)
            {
                var bit = BitOperations.TrailingZeroCount(set);
                set &= set - 1;
                frames.Add(baseAddress + ((((ulong)word << 6) + (ulong)bit) << SparseRam.FrameShift));
            }
        }
        return frames;
    }
}
