using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using VirtApi.Machine.Board;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Devices.Ata;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Elf;
using VirtApi.Machine.Tests.Differential;
using VirtApi.Machine.Tests.State;
using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>
/// The ATA PIO controller: register by register as a driver uses it, its saved state, random
/// register traffic, and a guest program driving it on a board, polling and through the PLIC.
/// </summary>
public sealed class AtaControllerTests
{
    private const byte Drdy = AtaStatus.Drdy;
    private const byte DrdyDrq = AtaStatus.Drdy | AtaStatus.Drq;
    private const byte DrdyErr = AtaStatus.Drdy | AtaStatus.Err;

    /// <summary>An interrupt line that remembers its level and counts its rising edges.</summary>
    private sealed class Line : IInterruptLine
    {
        public bool Level { get; private set; }

        public int Raised { get; private set; }

        public void SetLevel(bool level)
        {
            if (level && !Level)
            {
                Raised++;
            }
            Level = level;
        }
    }

    /// <summary>A controller on a disk, and a host that drives its registers as a driver would.</summary>
    private sealed class Rig(AtaController ata, IBlockStore store, Line line)
    {
        public AtaController Ata { get; } = ata;

        public IBlockStore Store { get; } = store;

        public Line Line { get; } = line;

        public static Rig New(ulong sectors = 1024) => New(new MemoryBlockStore(sectors));

        public static Rig New(IBlockStore store)
        {
            var line = new Line();
            return new Rig(new AtaController(line, store), store, line);
        }

        public byte In(ulong register)
        {
            Assert.True(Ata.Read(register, 1, out var value), $"read of register {register}");
            return (byte)value;
        }

        public void Out(ulong register, byte value) => Assert.True(Ata.Write(register, 1, value), $"write of register {register}");

        public byte Status() => In(AtaRegister.StatusCommand);

        public byte AlternateStatus() => In(AtaRegister.AlternateStatusDeviceControl);

        public byte Error() => In(AtaRegister.ErrorFeatures);

        public void Command(byte command) => Out(AtaRegister.StatusCommand, command);

        public ushort InData()
        {
            Assert.True(Ata.Read(AtaRegister.Data, 2, out var value));
            return (ushort)value;
        }

        public void OutData(ushort value) => Assert.True(Ata.Write(AtaRegister.Data, 2, value));

        /// <summary>Sector Count and an LBA28 address, device 0 selected (bits 7 and 5 set, as drivers write them).</summary>
        public void Address(ulong lba, int sectors)
        {
            Out(AtaRegister.SectorCount, (byte)sectors);
            Out(AtaRegister.LbaLow, (byte)lba);
            Out(AtaRegister.LbaMid, (byte)(lba >> 8));
            Out(AtaRegister.LbaHigh, (byte)(lba >> 16));
            Out(AtaRegister.Device, (byte)(0xA0 | AtaDevice.Lba | (int)((lba >> 24) & 0x0F)));
        }

        /// <summary>The 256 words of the current data-in block, as the 512 bytes they carry.</summary>
        public byte[] ReadBlock()
        {
            var bytes = new byte[AtaController.SectorSize];
            for (var i = 0; i < AtaController.WordsPerSector; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), InData());
            }
            return bytes;
        }

        public void WriteBlock(ReadOnlySpan<byte> sector)
        {
            Assert.Equal(AtaController.SectorSize, sector.Length);
            WriteWords(sector);
        }

        /// <summary>The words <paramref name="bytes"/> hold, through the Data register, whatever the device expects.</summary>
        public void WriteWords(ReadOnlySpan<byte> bytes)
        {
            for (var i = 0; i < bytes.Length; i += 2)
            {
                OutData(BinaryPrimitives.ReadUInt16LittleEndian(bytes[i..]));
            }
        }

        /// <summary>WRITE SECTORS of <paramref name="data"/>, checking the protocol: DRQ for each block, the interrupt after it.</summary>
        public void WriteSectors(ulong lba, byte[] data)
        {
            var sectors = data.Length / AtaController.SectorSize;
            Address(lba, sectors % 256);
            Command(AtaCommand.WriteSectors);
            for (var s = 0; s < sectors; s++)
            {
                Assert.Equal(DrdyDrq, AlternateStatus());
                WriteBlock(data.AsSpan(s * AtaController.SectorSize, AtaController.SectorSize));
                Assert.True(Line.Level, $"interrupt after sector {s}");
                Assert.Equal(s == sectors - 1 ? Drdy : DrdyDrq, Status());
            }
        }

        /// <summary>READ SECTORS, checking the protocol: DRQ and an interrupt for each block, nothing after the last.</summary>
        public byte[] ReadSectors(ulong lba, int sectors)
        {
            Address(lba, sectors % 256);
            Command(AtaCommand.ReadSectors);
            var data = new byte[sectors * AtaController.SectorSize];
            for (var s = 0; s < sectors; s++)
            {
                Assert.True(Line.Level, $"interrupt for sector {s}");
                Assert.Equal(DrdyDrq, Status());
                Assert.False(Line.Level);
                ReadBlock().CopyTo(data, s * AtaController.SectorSize);
            }
            Assert.Equal(Drdy, AlternateStatus());
            Assert.False(Line.Level);
            return data;
        }

        public ushort[] Identify()
        {
            Command(AtaCommand.IdentifyDevice);
            Assert.Equal(DrdyDrq, Status());
            var words = new ushort[AtaController.WordsPerSector];
            for (var i = 0; i < words.Length; i++)
            {
                words[i] = InData();
            }
            Assert.Equal(Drdy, AlternateStatus());
            return words;
        }
    }

    /// <summary><paramref name="sectors"/> sectors of bytes that differ per sector and per position.</summary>
    private static byte[] Pattern(int sectors, int seed)
    {
        var data = new byte[sectors * AtaController.SectorSize];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((i * 7) + (i / AtaController.SectorSize * 13) + seed + 1);
        }
        return data;
    }

    private static byte[] Contents(IBlockStore store, ulong lba, int sectors)
    {
        var data = new byte[sectors * AtaController.SectorSize];
        Assert.True(store.TryRead(lba, data));
        return data;
    }

    private static string AtaString(ushort[] words, int first, int count)
    {
        var text = new StringBuilder();
        for (var i = first; i < first + count; i++)
        {
            text.Append((char)(words[i] >> 8)).Append((char)(words[i] & 0xff));
        }
        return text.ToString();
    }

    // ---- reset and IDENTIFY DEVICE ----------------------------------------------------------------

    [Fact]
    public void PowerOn_ShowsDrdy_DiagnosticsPassed_AndTheAtaSignature()
    {
        var rig = Rig.New();
        Assert.Equal(Drdy, rig.Status());
        Assert.Equal(AtaError.DiagnosticPassed, rig.Error());
        Assert.Equal(new byte[] { 1, 1, 0, 0, 0 }, new[] { rig.In(AtaRegister.SectorCount), rig.In(AtaRegister.LbaLow), rig.In(AtaRegister.LbaMid), rig.In(AtaRegister.LbaHigh), rig.In(AtaRegister.Device) });
        Assert.False(rig.Line.Level);
    }

    [Fact]
    public void IdentifyDevice_ReturnsTheStringsWordSwapped_TheSectorCounts_AndAValidChecksum()
    {
        var rig = Rig.New(sectors: 100_000);

        var words = rig.Identify();

        // ATA strings: the first character of each word in bits 15:8.
        Assert.Equal(('V' << 8) | 'i', words[27]);
        Assert.Equal("VirtApi ATA disk".PadRight(40), AtaString(words, 27, 20));
        Assert.Equal(AtaController.SerialNumber.PadRight(20), AtaString(words, 10, 10));
        Assert.Equal(AtaController.FirmwareRevision.PadRight(8), AtaString(words, 23, 4));
        Assert.Equal(0, words[0] & 0x8000); // an ATA device
        Assert.NotEqual(0, words[49] & (1 << 9)); // LBA supported
        Assert.Equal(100_000u, words[60] | ((uint)words[61] << 16));
        Assert.Equal(100_000UL, words[100] | ((ulong)words[101] << 16) | ((ulong)words[102] << 32) | ((ulong)words[103] << 48));
        Assert.Equal(0x5000, words[83]); // valid (bit 14), FLUSH CACHE (bit 12), no 48-bit addressing (bit 10)
        Assert.Equal(0x4000, words[84] & 0xC000);
        Assert.Equal(0x4000, words[87] & 0xC000);
        Assert.Equal(1 << 5, words[85] & (1 << 5)); // write cache enabled
        Assert.Equal(0xA5, words[255] & 0xff);
        var sum = 0;
        foreach (var word in words)
        {
            sum += (word & 0xff) + (word >> 8);
        }
        Assert.Equal(0, sum & 0xff);
    }

    [Fact]
    public void IdentifyDevice_InterruptsOnceForItsBlock_AndNotWhenTheBlockHasBeenRead()
    {
        var rig = Rig.New();
        rig.Command(AtaCommand.IdentifyDevice);
        Assert.True(rig.Line.Level);
        Assert.Equal(DrdyDrq, rig.Status());
        for (var i = 0; i < AtaController.WordsPerSector; i++)
        {
            rig.InData();
        }
        Assert.Equal(Drdy, rig.AlternateStatus());
        Assert.Equal(1, rig.Line.Raised);
        Assert.Equal(0UL, rig.Ata.Counters.SectorsRead); // the identify data is not read from the disk
    }

    [Fact]
    public void IdentifyDevice_OnADiskBeyondLba28_ReportsTheLba28LimitInWords60And61_AndTheFullSizeIn100To103()
    {
        var rig = Rig.New(sectors: 1UL << 32);

        var words = rig.Identify();

        Assert.Equal((uint)AtaController.MaxLba28Sectors, words[60] | ((uint)words[61] << 16));
        Assert.Equal(1UL << 32, words[100] | ((ulong)words[101] << 16) | ((ulong)words[102] << 32) | ((ulong)words[103] << 48));
        var last = Pattern(1, seed: 9);
        rig.WriteSectors(AtaController.MaxLba28Sectors - 1, last);
        Assert.Equal(last, rig.ReadSectors(AtaController.MaxLba28Sectors - 1, 1));
        Assert.Equal(last, Contents(rig.Store, AtaController.MaxLba28Sectors - 1, 1));
    }

    // ---- READ SECTORS and WRITE SECTORS -----------------------------------------------------------

    [Fact]
    public void WriteSectors_ThenReadSectors_ReturnsWhatWasWritten_AtTheFull28BitAddress()
    {
        const ulong Lba = 0x0123_4567; // bits 27:24 travel in the Device register
        var rig = Rig.New(sectors: 0x0200_0000);
        var data = Pattern(3, seed: 1);

        rig.WriteSectors(Lba, data);
        var back = rig.ReadSectors(Lba, 3);

        Assert.Equal(data, back);
        Assert.Equal(data, Contents(rig.Store, Lba, 3));
        Assert.Equal(new byte[AtaController.SectorSize], Contents(rig.Store, Lba - 1, 1));
        Assert.Equal(new byte[AtaController.SectorSize], Contents(rig.Store, Lba + 3, 1));
        Assert.Equal((2UL, 3UL, 3UL, 0UL), (rig.Ata.Counters.Commands, rig.Ata.Counters.SectorsWritten, rig.Ata.Counters.SectorsRead, rig.Ata.Counters.Flushes));
    }

    [Fact]
    public void SectorCountZero_TransfersTwoHundredFiftySixSectors()
    {
        var rig = Rig.New(sectors: 300);
        var data = Pattern(256, seed: 2);

        rig.Address(10, 0);
        rig.Command(AtaCommand.WriteSectors);
        for (var s = 0; s < 256; s++)
        {
            Assert.Equal(DrdyDrq, rig.AlternateStatus());
            rig.WriteBlock(data.AsSpan(s * AtaController.SectorSize, AtaController.SectorSize));
            rig.Status();
        }

        Assert.Equal(Drdy, rig.AlternateStatus());
        Assert.Equal(256UL, rig.Ata.Counters.SectorsWritten);
        Assert.Equal(data, Contents(rig.Store, 10, 256));
        Assert.Equal(new byte[AtaController.SectorSize], Contents(rig.Store, 266, 1));
        Assert.Equal(data, rig.ReadSectors(10, 256)); // Sector Count 256 % 256 = 0 again
        Assert.Equal(256UL, rig.Ata.Counters.SectorsRead);
    }

    [Fact]
    public void ReadSectors_SetsDrqAndInterruptsForEverySector_AndNotAfterTheLast()
    {
        var rig = Rig.New();
        rig.WriteSectors(40, Pattern(3, seed: 3));
        var raisedBefore = rig.Line.Raised;

        var data = rig.ReadSectors(40, 3); // asserts DRQ and INTRQ per block, neither after the last

        Assert.Equal(Pattern(3, seed: 3), data);
        Assert.Equal(3, rig.Line.Raised - raisedBefore);
    }

    [Fact]
    public void WriteSectors_AsksForTheFirstBlockWithoutAnInterrupt_ThenInterruptsAfterEverySector()
    {
        var rig = Rig.New();
        var data = Pattern(3, seed: 4);
        rig.Address(7, 3);
        rig.Command(AtaCommand.WriteSectors);

        Assert.Equal(DrdyDrq, rig.AlternateStatus());
        Assert.False(rig.Line.Level);
        for (var s = 0; s < 3; s++)
        {
            rig.WriteBlock(data.AsSpan(s * AtaController.SectorSize, AtaController.SectorSize));
            Assert.Equal((ulong)s + 1, rig.Ata.Counters.SectorsWritten); // written when its block is complete
            Assert.Equal(data[..((s + 1) * AtaController.SectorSize)], Contents(rig.Store, 7, s + 1));
            Assert.True(rig.Line.Level);
            Assert.Equal(s < 2 ? DrdyDrq : Drdy, rig.Status());
        }
        Assert.Equal(3, rig.Line.Raised);
    }

    [Fact]
    public void ReadingStatus_ClearsTheInterrupt_ReadingAlternateStatusDoesNot()
    {
        var rig = Rig.New();
        rig.Command(AtaCommand.FlushCache);
        Assert.True(rig.Line.Level);

        Assert.Equal(Drdy, rig.AlternateStatus());
        Assert.True(rig.Line.Level);
        Assert.Equal(Drdy, rig.Status());
        Assert.False(rig.Line.Level);
        rig.Status();
        Assert.Equal(1, rig.Line.Raised);
    }

    [Fact]
    public void NIen_KeepsIntrqLow_WhileTheInterruptStaysPending()
    {
        var rig = Rig.New();
        rig.Out(AtaRegister.AlternateStatusDeviceControl, AtaDeviceControl.NIen);

        rig.Command(AtaCommand.FlushCache);
        Assert.False(rig.Line.Level);

        rig.Out(AtaRegister.AlternateStatusDeviceControl, 0); // the pending interrupt now shows
        Assert.True(rig.Line.Level);
        rig.Out(AtaRegister.AlternateStatusDeviceControl, AtaDeviceControl.NIen);
        Assert.False(rig.Line.Level);
        rig.Status(); // acknowledged behind the mask
        rig.Out(AtaRegister.AlternateStatusDeviceControl, 0);
        Assert.False(rig.Line.Level);
        Assert.Equal(1, rig.Line.Raised);
    }

    // ---- errors and protocol violations -----------------------------------------------------------

    [Theory]
    [InlineData(99UL, 2, 100UL)] // the last sector exists, the one after it does not
    [InlineData(100UL, 1, 100UL)]
    [InlineData(0x0ABC_DEF0UL, 1, 0x0ABC_DEF0UL)]
    public void Sectors_PastTheLastOne_FailWithIdnf_NamingTheFirstMissingSector_BeforeAnyTransfer(ulong lba, int sectors, ulong missing)
    {
        foreach (var command in new[] { AtaCommand.ReadSectors, AtaCommand.WriteSectors })
        {
            var rig = Rig.New(sectors: 100);
            rig.Address(lba, sectors);
            rig.Command(command);

            Assert.True(rig.Line.Level);
            Assert.Equal(DrdyErr, rig.Status());
            Assert.Equal(AtaError.Idnf, rig.Error());
            var named = rig.In(AtaRegister.LbaLow) | ((ulong)rig.In(AtaRegister.LbaMid) << 8) | ((ulong)rig.In(AtaRegister.LbaHigh) << 16) | ((ulong)(rig.In(AtaRegister.Device) & 0x0F) << 24);
            Assert.Equal(missing, named);
            Assert.Equal(0, rig.InData());
            Assert.Equal((0UL, 0UL), (rig.Ata.Counters.SectorsRead, rig.Ata.Counters.SectorsWritten));
        }
    }

    [Theory]
    [InlineData(0x00)] // NOP: aborts by definition
    [InlineData(0x24)] // READ SECTORS EXT: no 48-bit addressing
    [InlineData(0xC8)] // READ DMA: no DMA
    [InlineData(0xC4)] // READ MULTIPLE
    [InlineData(0xFF)]
    public void UnsupportedCommand_FailsWithAbrt_AndAnInterrupt(byte command)
    {
        var rig = Rig.New();
        rig.Address(1, 1);
        rig.Command(command);

        Assert.True(rig.Line.Level);
        Assert.Equal(DrdyErr, rig.Status());
        Assert.Equal(AtaError.Abrt, rig.Error());
        Assert.Equal(1UL, rig.Ata.Counters.Commands);
        rig.Command(AtaCommand.FlushCache); // the next command clears the error
        Assert.Equal(Drdy, rig.Status());
        Assert.Equal(0, rig.Error());
    }

    [Fact]
    public void ReadSectors_WithAChsAddress_FailsWithAbrt()
    {
        var rig = Rig.New();
        rig.Address(1, 1);
        rig.Out(AtaRegister.Device, 0xA0); // LBA bit clear

        rig.Command(AtaCommand.ReadSectors);

        Assert.Equal(DrdyErr, rig.Status());
        Assert.Equal(AtaError.Abrt, rig.Error());
        Assert.Equal(0UL, rig.Ata.Counters.SectorsRead);
    }

    [Fact]
    public void DataRegister_WithoutDrq_ReadsZero_AndIgnoresWrites()
    {
        var rig = Rig.New();
        rig.WriteSectors(0, Pattern(1, seed: 5));
        rig.Status();

        for (var i = 0; i < 600; i++)
        {
            Assert.Equal(0, rig.InData());
            rig.OutData(0xBEEF);
        }

        Assert.Equal(Drdy, rig.Status());
        Assert.False(rig.Line.Level);
        Assert.Equal(Pattern(1, seed: 5), Contents(rig.Store, 0, 1));
        Assert.Equal(1UL, rig.Ata.Counters.SectorsWritten);
    }

    [Fact]
    public void DataRegister_ReadDuringAWrite_OrWrittenDuringARead_ChangesNothing()
    {
        var rig = Rig.New();
        var data = Pattern(1, seed: 6);
        rig.Address(3, 1);
        rig.Command(AtaCommand.WriteSectors);
        rig.WriteWords(data.AsSpan(0, 256));
        Assert.Equal(0, rig.InData());
        rig.WriteWords(data.AsSpan(256, 256));
        Assert.Equal(data, Contents(rig.Store, 3, 1));

        rig.Address(3, 1);
        rig.Command(AtaCommand.ReadSectors);
        rig.OutData(0x1234);
        Assert.Equal(data, rig.ReadBlock());
    }

    [Fact]
    public void Command_WhileATransferWantsData_IsAborted_AndEndsTheTransfer()
    {
        var rig = Rig.New();
        var data = Pattern(2, seed: 7);
        rig.Address(20, 2);
        rig.Command(AtaCommand.WriteSectors);
        rig.WriteBlock(data.AsSpan(0, AtaController.SectorSize)); // sector 20 written
        rig.Status();
        for (var i = 0; i < 100; i++)
        {
            rig.OutData(0xFFFF); // part of sector 21
        }

        rig.Command(AtaCommand.IdentifyDevice);

        Assert.True(rig.Line.Level);
        Assert.Equal(DrdyErr, rig.Status());
        Assert.Equal(AtaError.Abrt, rig.Error());
        rig.OutData(0xFFFF); // no transfer any more
        Assert.Equal(data[..AtaController.SectorSize], Contents(rig.Store, 20, 1));
        Assert.Equal(new byte[AtaController.SectorSize], Contents(rig.Store, 21, 1));
        Assert.Equal(1UL, rig.Ata.Counters.SectorsWritten);
        Assert.Equal(AtaController.ModelNumber.PadRight(40), AtaString(rig.Identify(), 27, 20)); // and the next command runs
    }

    [Fact]
    public void SoftwareReset_HoldsBsy_DropsTheTransfer_ThenEndsWithTheSignature_AndNoInterrupt()
    {
        var rig = Rig.New();
        rig.WriteSectors(5, Pattern(2, seed: 8));
        rig.Out(AtaRegister.ErrorFeatures, 0x82); // write cache off
        rig.Command(AtaCommand.SetFeatures);
        rig.Status();
        rig.Address(5, 2);
        rig.Command(AtaCommand.ReadSectors);
        rig.InData();
        Assert.True(rig.Line.Level);

        rig.Out(AtaRegister.AlternateStatusDeviceControl, AtaDeviceControl.Srst);

        Assert.Equal(AtaStatus.Bsy, rig.AlternateStatus());
        Assert.False(rig.Line.Level);
        Assert.Equal(0, rig.InData());
        rig.Address(0x33, 9); // ignored while BSY
        rig.Command(AtaCommand.IdentifyDevice);
        Assert.Equal(AtaStatus.Bsy, rig.Status());

        rig.Out(AtaRegister.AlternateStatusDeviceControl, 0);

        Assert.Equal(Drdy, rig.Status());
        Assert.False(rig.Line.Level);
        Assert.Equal(AtaError.DiagnosticPassed, rig.Error());
        Assert.Equal(new byte[] { 1, 1, 0, 0, 0 }, new[] { rig.In(AtaRegister.SectorCount), rig.In(AtaRegister.LbaLow), rig.In(AtaRegister.LbaMid), rig.In(AtaRegister.LbaHigh), rig.In(AtaRegister.Device) });
        Assert.Equal(0, rig.InData());
        Assert.Equal(1 << 5, rig.Identify()[85] & (1 << 5)); // the write cache is back on: settings revert
        Assert.Equal(4UL, rig.Ata.Counters.Commands); // WRITE, SET FEATURES, READ, IDENTIFY; not the one written in reset
    }

    [Fact]
    public void FlushCache_ReachesTheStore()
    {
        var store = new MemoryBlockStore(64);
        var rig = Rig.New(store);

        rig.Command(AtaCommand.FlushCache);

        Assert.Equal(Drdy, rig.Status());
        Assert.Equal(1UL, store.Flushes);
        Assert.Equal(1UL, rig.Ata.Counters.Flushes);
    }

    [Fact]
    public void SetFeatures_DisablingTheWriteCache_MakesEveryWriteFlush_AndIdentifyShowsIt()
    {
        var store = new MemoryBlockStore(64);
        var rig = Rig.New(store);

        rig.Out(AtaRegister.ErrorFeatures, 0x82);
        rig.Command(AtaCommand.SetFeatures);
        Assert.Equal(Drdy, rig.Status());
        Assert.Equal(1UL, store.Flushes); // what the cache held is written out
        Assert.Equal(0, rig.Identify()[85] & (1 << 5));
        rig.WriteSectors(1, Pattern(2, seed: 10));
        Assert.Equal(2UL, store.Flushes); // once, at completion

        rig.Out(AtaRegister.ErrorFeatures, 0x02);
        rig.Command(AtaCommand.SetFeatures);
        rig.WriteSectors(1, Pattern(2, seed: 11));
        Assert.Equal(2UL, store.Flushes);
        Assert.Equal(1 << 5, rig.Identify()[85] & (1 << 5));
    }

    [Theory]
    [InlineData(0x03, 0x0C, true)] // PIO mode 4 with flow control
    [InlineData(0x03, 0x00, true)] // PIO default mode
    [InlineData(0x03, 0x0D, false)] // PIO mode 5: not reported in word 64
    [InlineData(0x03, 0x22, false)] // multiword DMA mode 2: no DMA
    [InlineData(0x03, 0x45, false)] // Ultra DMA mode 5
    [InlineData(0xAA, 0x00, false)] // read look-ahead: not reported in word 82
    [InlineData(0x66, 0x00, false)] // keeping settings over a reset: not supported
    [InlineData(0xCC, 0x00, true)] // reverting to defaults over a reset: what it always does
    public void SetFeatures_AcceptsOnlyWhatTheDeviceReports(byte subcommand, byte count, bool accepted)
    {
        var rig = Rig.New();
        rig.Out(AtaRegister.ErrorFeatures, subcommand);
        rig.Out(AtaRegister.SectorCount, count);

        rig.Command(AtaCommand.SetFeatures);

        Assert.Equal(accepted ? Drdy : DrdyErr, rig.Status());
        Assert.Equal(accepted ? 0 : AtaError.Abrt, rig.Error());
    }

    [Fact]
    public void Device1_IsAbsent_StatusReadsZero_ItsCommandsAreIgnored_AndItHidesDevice0sInterrupt()
    {
        var rig = Rig.New();
        rig.Command(AtaCommand.FlushCache); // device 0 has an interrupt pending
        Assert.True(rig.Line.Level);

        rig.Out(AtaRegister.Device, 0xA0 | AtaDevice.Lba | AtaDevice.Dev);

        Assert.False(rig.Line.Level); // only the selected device drives INTRQ
        Assert.Equal(0, rig.Status());
        Assert.Equal(0, rig.AlternateStatus());
        rig.Command(AtaCommand.IdentifyDevice);
        rig.Command(AtaCommand.WriteSectors);
        Assert.Equal(0, rig.Status());
        Assert.Equal(0, rig.InData());
        Assert.Equal(1UL, rig.Ata.Counters.Commands);

        rig.Out(AtaRegister.Device, 0xA0 | AtaDevice.Lba);

        Assert.True(rig.Line.Level); // device 0's interrupt was pending all along
        Assert.Equal(Drdy, rig.Status());
    }

    [Fact]
    public void ExecuteDeviceDiagnostic_WithDevice1Selected_IsExecutedByDevice0_AndSelectsIt()
    {
        var rig = Rig.New();
        rig.Out(AtaRegister.Device, 0xA0 | AtaDevice.Dev);
        rig.Out(AtaRegister.LbaMid, 0x77);

        rig.Command(AtaCommand.ExecuteDeviceDiagnostic);

        Assert.Equal(0, rig.In(AtaRegister.Device)); // the signature clears DEV
        Assert.True(rig.Line.Level);
        Assert.Equal(Drdy, rig.Status()); // ERR clear: the Error register holds a diagnostic code
        Assert.Equal(AtaError.DiagnosticPassed, rig.Error());
        Assert.Equal(new byte[] { 1, 1, 0, 0 }, new[] { rig.In(AtaRegister.SectorCount), rig.In(AtaRegister.LbaLow), rig.In(AtaRegister.LbaMid), rig.In(AtaRegister.LbaHigh) });
    }

    [Theory]
    [InlineData(AtaRegister.Data, 1)]
    [InlineData(AtaRegister.Data, 4)]
    [InlineData(AtaRegister.Data, 8)]
    [InlineData(AtaRegister.StatusCommand, 2)]
    [InlineData(AtaRegister.ErrorFeatures, 4)]
    [InlineData(AtaRegister.AlternateStatusDeviceControl, 2)]
    [InlineData(9UL, 1)]
    [InlineData(0xFFFUL, 1)]
    [InlineData(0x206UL, 1)]
    public void AccessesOutsideTheRegisterLayout_AreRefused_AndChangeNothing(ulong offset, int size)
    {
        var rig = Rig.New();
        rig.Command(AtaCommand.IdentifyDevice);
        var before = rig.Ata.Save();

        Assert.False(rig.Ata.Read(offset, size, out var value));
        Assert.Equal(0UL, value);
        Assert.False(rig.Ata.Write(offset, size, AtaCommand.ReadSectors));

        var after = rig.Ata.Save();
        Assert.Equal(before.Counters.RegisterAccesses + 2, after.Counters.RegisterAccesses); // refused, yet exits all the same
        Assert.Equal(Json(before), Json(after with { Counters = before.Counters }));
        Assert.True(rig.Line.Level); // the Status register was not read
    }

    [Fact]
    public void DataRegisterTransfers_AllocateNothing()
    {
        var rig = Rig.New();
        var data = Pattern(8, seed: 12);
        var ata = rig.Ata;
        void Address()
        {
            ata.Write(AtaRegister.SectorCount, 1, 8);
            ata.Write(AtaRegister.LbaLow, 1, 16);
            ata.Write(AtaRegister.LbaMid, 1, 0);
            ata.Write(AtaRegister.LbaHigh, 1, 0);
            ata.Write(AtaRegister.Device, 1, 0xE0);
        }
        // Straight to the controller: the rig's helpers build assertion messages, which allocate.
        void Transfer()
        {
            Address();
            ata.Write(AtaRegister.StatusCommand, 1, AtaCommand.WriteSectors);
            for (var i = 0; i < data.Length; i += 2)
            {
                ata.Write(AtaRegister.Data, 2, BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(i)));
                if (i % AtaController.SectorSize == AtaController.SectorSize - 2)
                {
                    ata.Read(AtaRegister.StatusCommand, 1, out _);
                }
            }
            Address();
            ata.Write(AtaRegister.StatusCommand, 1, AtaCommand.ReadSectors);
            for (var i = 0; i < data.Length; i += 2)
            {
                if (i % AtaController.SectorSize == 0)
                {
                    ata.Read(AtaRegister.StatusCommand, 1, out _);
                }
                ata.Read(AtaRegister.Data, 2, out _);
            }
        }
        Transfer(); // the store allocates the sectors, the JIT compiles

        var before = GC.GetAllocatedBytesForCurrentThread();
        Transfer();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(16UL, rig.Ata.Counters.SectorsWritten);
        Assert.Equal(16UL, rig.Ata.Counters.SectorsRead);
    }

    [Fact]
    public void Counters_CountAccessesCommandsBytesInterruptsAndErrors_WhereTheyHappen()
    {
        var rig = Rig.New();
        rig.WriteSectors(2, Pattern(1, seed: 13)); // 5 address writes, command, 256 data words, 1 Alternate Status, 1 Status
        rig.Ata.Read(AtaRegister.Data, 1, out _); // refused, but an access (an exit) all the same
        rig.InData(); // no DRQ: an access that moves no data

        Assert.Equal(5UL + 1 + 256 + 2 + 1 + 1, rig.Ata.Counters.RegisterAccesses);
        Assert.Equal((1UL, 1UL, 0UL), (rig.Ata.Counters.Commands, rig.Ata.Counters.SectorsWritten, rig.Ata.Counters.SectorsRead));
        Assert.Equal((ulong)AtaController.SectorSize, rig.Ata.Counters.BytesTransferred);
        Assert.Equal(1UL, rig.Ata.Counters.InterruptsRaised); // WRITE SECTORS interrupts after its one block
        Assert.Equal(0UL, rig.Ata.Counters.DeviceErrors);

        rig.ReadSectors(2, 2);
        rig.Command(0x00); // NOP: ABRT
        rig.Status();
        rig.Address(1023, 2); // one sector past the end: IDNF
        rig.Command(AtaCommand.ReadSectors);
        rig.Status();
        rig.Out(AtaRegister.AlternateStatusDeviceControl, AtaDeviceControl.NIen);
        rig.Command(AtaCommand.FlushCache); // pending behind nIEN: no edge on INTRQ

        Assert.Equal((5UL, 1UL, 2UL), (rig.Ata.Counters.Commands, rig.Ata.Counters.SectorsWritten, rig.Ata.Counters.SectorsRead));
        Assert.Equal(3UL * AtaController.SectorSize, rig.Ata.Counters.BytesTransferred);
        Assert.Equal((ulong)rig.Line.Raised, rig.Ata.Counters.InterruptsRaised);
        Assert.Equal(5UL, rig.Ata.Counters.InterruptsRaised); // WRITE 1, READ 2, ABRT 1, IDNF 1
        Assert.Equal(2UL, rig.Ata.Counters.DeviceErrors);
    }

    [Fact]
    public void AStoreThatRefusesASector_EndsTheCommandWithIdnfNamingIt_AndKeepsWhatCameBefore()
    {
        var store = new RefusingStore(sectors: 64, refused: 12);
        var rig = Rig.New(store);
        var data = Pattern(4, seed: 15);

        rig.Address(10, 4);
        rig.Command(AtaCommand.WriteSectors);
        rig.WriteBlock(data.AsSpan(0, AtaController.SectorSize));
        rig.Status();
        rig.WriteBlock(data.AsSpan(AtaController.SectorSize, AtaController.SectorSize));
        rig.Status();
        rig.WriteBlock(data.AsSpan(2 * AtaController.SectorSize, AtaController.SectorSize)); // sector 12

        Assert.True(rig.Line.Level);
        Assert.Equal(DrdyErr, rig.Status());
        Assert.Equal(AtaError.Idnf, rig.Error());
        Assert.Equal(12, rig.In(AtaRegister.LbaLow));
        rig.OutData(0xFFFF); // no transfer any more
        Assert.Equal(data[..(2 * AtaController.SectorSize)], Contents(store, 10, 2));
        Assert.Equal(2UL, rig.Ata.Counters.SectorsWritten);

        rig.Address(11, 2);
        rig.Command(AtaCommand.ReadSectors);
        Assert.Equal(DrdyDrq, rig.Status());
        Assert.Equal(data.AsSpan(AtaController.SectorSize, AtaController.SectorSize).ToArray(), rig.ReadBlock());
        Assert.Equal(DrdyErr, rig.Status()); // sector 12 could not be fetched
        Assert.Equal(AtaError.Idnf, rig.Error());
        Assert.Equal(0, rig.InData());

        rig.Address(12, 1);
        rig.Command(AtaCommand.ReadSectors);
        Assert.Equal(DrdyErr, rig.Status());
        Assert.Equal(0, rig.InData());
        Assert.Equal(3UL, rig.Ata.Counters.DeviceErrors);
    }

    /// <summary>A disk whose one sector <paramref name="refused"/> cannot be read or written, though it is inside the disk.</summary>
    private sealed class RefusingStore(ulong sectors, ulong refused) : IBlockStore
    {
        private readonly MemoryBlockStore _disk = new(sectors);

        public ulong SectorCount => sectors;

        public bool TryRead(ulong sector, Span<byte> destination) => sector != refused && _disk.TryRead(sector, destination);

        public bool TryWrite(ulong sector, ReadOnlySpan<byte> source) => sector != refused && _disk.TryWrite(sector, source);

        public void Flush() => _disk.Flush();
    }

    // ---- saved state -------------------------------------------------------------------------------

    private static AtaState ThroughJson(AtaState state) =>
        JsonSerializer.Deserialize<AtaState>(JsonSerializer.Serialize(state, SavedMachine.Json), SavedMachine.Json)!;

    private static string Json(AtaState state) => JsonSerializer.Serialize(state, SavedMachine.Json);

    [Fact]
    public void SavedInTheMiddleOfAMultiSectorWrite_RestoredIntoANewController_FinishesAsAnUnsavedRun()
    {
        var data = Pattern(3, seed: 14);
        var words = new ushort[data.Length / 2];
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(i * 2));
        }
        void Begin(Rig rig)
        {
            rig.Out(AtaRegister.ErrorFeatures, 0x82); // a setting that must survive too
            rig.Command(AtaCommand.SetFeatures);
            rig.Status();
            rig.Address(30, 3);
            rig.Command(AtaCommand.WriteSectors);
        }
        void Words(Rig rig, int from, int to)
        {
            for (var i = from; i < to; i++)
            {
                rig.OutData(words[i]);
                if (i % AtaController.WordsPerSector == AtaController.WordsPerSector - 1)
                {
                    rig.AlternateStatus();
                }
            }
        }
        const int Split = 256 + 100; // sector 30 written, 100 words of sector 31 in the buffer, its interrupt pending

        var unsaved = Rig.New(sectors: 64);
        Begin(unsaved);
        Words(unsaved, 0, words.Length);
        unsaved.Status();

        var first = Rig.New(sectors: 64);
        Begin(first);
        Words(first, 0, Split);
        var saved = first.Ata.Save();
        Assert.Equal(PioTransfer.DataOut, saved.Transfer);
        Assert.Equal((100, 2, 31UL, true), (saved.WordsTransferred, saved.SectorsRemaining, saved.CurrentLba, saved.InterruptPending));
        var line = new Line();
        var restored = new Rig(AtaController.Restore(new AtaArgs(line, first.Store), ThroughJson(saved)), first.Store, line);
        Assert.True(line.Level); // driven at once to the level it had
        Assert.Equal(Json(saved), Json(restored.Ata.Save()));
        Words(restored, Split, words.Length);
        restored.Status();

        Assert.Equal(Json(unsaved.Ata.Save()), Json(restored.Ata.Save()));
        Assert.Equal(Contents(unsaved.Store, 0, 64), Contents(restored.Store, 0, 64));
        Assert.Equal(data, Contents(restored.Store, 30, 3));
        Assert.Equal(unsaved.Line.Level, restored.Line.Level);
        Assert.Equal(((MemoryBlockStore)unsaved.Store).Flushes, ((MemoryBlockStore)restored.Store).Flushes);
    }

    [Fact]
    public void AtaState_RoundTripsThroughJson()
    {
        var rig = Rig.New();
        rig.Address(9, 2);
        rig.Command(AtaCommand.ReadSectors);
        rig.InData();
        var saved = rig.Ata.Save();
        var state = saved with
        {
            Features = 0x82,
            DeviceControl = AtaDeviceControl.NIen,
            Error = 0x10,
            WriteCacheEnabled = false,
            Counters = saved.Counters with { Flushes = 12, RegisterAccesses = ulong.MaxValue, BytesTransferred = 3, InterruptsRaised = 4, DeviceErrors = 5 },
        };

        var back = ThroughJson(state);

        Assert.Equivalent(state, back, strict: true);
        Assert.Equal(Json(state), Json(back));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<AtaState>(Json(state).Replace("\"CurrentLba\"", "\"CurrentLBA\"", StringComparison.Ordinal), SavedMachine.Json));
    }

    [Fact]
    public void Restore_RefusesAStateThatCouldNotHaveBeenSavedOnThisDisk()
    {
        var rig = Rig.New(sectors: 64);
        rig.Address(60, 4);
        rig.Command(AtaCommand.WriteSectors);
        var good = rig.Ata.Save();
        var args = new AtaArgs(new Line(), new MemoryBlockStore(64));
        AtaController.Restore(args, good);

        Assert.Throws<ArgumentException>(() => AtaController.Restore(new AtaArgs(new Line(), new MemoryBlockStore(62)), good)); // would write past the end
        Assert.Throws<ArgumentException>(() => AtaController.Restore(args, good with { Buffer = [1, 2, 3] }));
        Assert.Throws<ArgumentException>(() => AtaController.Restore(args, good with { WordsTransferred = 256 }));
        Assert.Throws<ArgumentException>(() => AtaController.Restore(args, good with { SectorsRemaining = 0 }));
        Assert.Throws<ArgumentException>(() => AtaController.Restore(args, good with { Status = Drdy })); // a transfer without DRQ
        Assert.Throws<ArgumentException>(() => AtaController.Restore(args, good with { Transfer = PioTransfer.None })); // DRQ without a transfer
        Assert.Throws<ArgumentException>(() => AtaController.Restore(args, good with { Transfer = (PioTransfer)7 }));
        Assert.Throws<ArgumentException>(() => AtaController.Restore(args, good with { Status = AtaStatus.Bsy | AtaStatus.Drq })); // BSY without SRST
    }

    // ---- random register traffic -------------------------------------------------------------------

    /// <summary>A store that fails the test on any call the controller's contract rules out: outside the disk, or not one whole sector.</summary>
    private sealed class CheckedStore(ulong sectors) : IBlockStore
    {
        private readonly MemoryBlockStore _disk = new(sectors);

        public ulong SectorCount => sectors;

        public int Calls { get; private set; }

        public bool TryRead(ulong sector, Span<byte> destination)
        {
            Check(sector, destination.Length);
            return _disk.TryRead(sector, destination);
        }

        public bool TryWrite(ulong sector, ReadOnlySpan<byte> source)
        {
            Check(sector, source.Length);
            return _disk.TryWrite(sector, source);
        }

        public void Flush() => Calls++;

        private void Check(ulong sector, int length)
        {
            Calls++;
            Assert.True(sector < sectors, $"sector {sector} of {sectors}");
            Assert.Equal(AtaController.SectorSize, length);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomRegisterTraffic_NeverThrows_NeverReachesOutsideTheDisk_AndLeavesARestorableState(int seed)
    {
        var random = new Random(seed);
        var store = new CheckedStore(48);
        var line = new Line();
        var ata = new AtaController(line, store);
        byte[] commands = [AtaCommand.IdentifyDevice, AtaCommand.ReadSectors, AtaCommand.WriteSectors, AtaCommand.FlushCache, AtaCommand.SetFeatures, AtaCommand.ExecuteDeviceDiagnostic];
        var accepted = 0;
        for (var step = 0; step < 100_000; step++)
        {
            var roll = random.Next(100);
            if (roll < 5)
            {
                // A well-formed READ or WRITE SECTORS (within the disk or not), so that the traffic
                // around it reaches deep into transfers.
                var lba = random.Next(56);
                ata.Write(AtaRegister.SectorCount, 1, (ulong)random.Next(1, 9));
                ata.Write(AtaRegister.LbaLow, 1, (ulong)lba);
                ata.Write(AtaRegister.LbaMid, 1, 0);
                ata.Write(AtaRegister.LbaHigh, 1, 0);
                ata.Write(AtaRegister.Device, 1, 0xE0);
                ata.Write(AtaRegister.StatusCommand, 1, random.Next(2) == 0 ? AtaCommand.ReadSectors : AtaCommand.WriteSectors);
            }
            else if (roll < 40)
            {
                // A burst on the Data register, long enough to get through blocks.
                var words = random.Next(1, 300);
                var write = random.Next(2) == 0;
                for (var i = 0; i < words; i++)
                {
                    accepted += (write ? ata.Write(AtaRegister.Data, 2, (ulong)random.Next()) : ata.Read(AtaRegister.Data, 2, out _)) ? 1 : 0;
                }
            }
            else if (roll < 85)
            {
                var register = (ulong)random.Next(1, 9);
                var value = register switch
                {
                    AtaRegister.StatusCommand => random.Next(4) == 0 ? random.Next(256) : commands[random.Next(commands.Length)],
                    AtaRegister.Device => random.Next(4) == 0 ? random.Next(256) : 0xE0 | (random.Next(8) == 0 ? AtaDevice.Dev : 0),
                    AtaRegister.AlternateStatusDeviceControl => random.Next(3) == 0 ? random.Next(256) : 0,
                    AtaRegister.SectorCount => random.Next(4) == 0 ? random.Next(256) : random.Next(1, 5),
                    AtaRegister.LbaLow => random.Next(4) == 0 ? random.Next(256) : random.Next(48),
                    _ => random.Next(4) == 0 ? random.Next(256) : 0,
                };
                if (random.Next(3) == 0)
                {
                    accepted += ata.Read(register, 1, out _) ? 1 : 0;
                }
                else
                {
                    accepted += ata.Write(register, 1, (ulong)value) ? 1 : 0;
                }
            }
            else
            {
                var size = 1 << random.Next(4);
                var offset = (ulong)random.Next((int)AtaController.Size - size + 1);
                _ = random.Next(2) == 0 ? ata.Read(offset, size, out _) : ata.Write(offset, size, (ulong)random.NextInt64());
            }

            if (step % 64 == 0)
            {
                var state = ata.Save();
                Assert.False(line.Level && ((state.DeviceControl & AtaDeviceControl.NIen) != 0 || (state.Device & AtaDevice.Dev) != 0), $"INTRQ high behind nIEN or DEV at step {step}");
                Assert.Equal(0, state.Status & AtaStatus.Df);
                AtaController.Restore(new AtaArgs(new Line(), store), state);
            }
        }

        Assert.True(ata.Counters.SectorsRead > 1000 && ata.Counters.SectorsWritten > 300, $"only {ata.Counters.SectorsRead} read and {ata.Counters.SectorsWritten} written: the traffic did not reach the disk");
        Assert.True(ata.Counters.Commands > 5_000, $"only {ata.Counters.Commands} commands");
        Assert.True(accepted > 100_000);
        Assert.True(store.Calls > 100);
    }

    // ---- a guest driver on the board ---------------------------------------------------------------

    private const ulong GuestFirstLba = 0x01AB_CDEF; // ata-disk.S: ATA_FIRST_LBA
    private const int GuestSectors = 4; // ata-disk.S: ATA_SECTORS
    private const ulong GuestDiskSectors = 0x0200_0000;

    /// <summary>ata-disk.S's pattern: word w of sector s is ((s &lt;&lt; 8 | w) × 40503 + 0x5A5A) mod 2^16.</summary>
    private static ushort GuestPattern(int sector, int word) => (ushort)((((sector << 8) | word) * 40503) + 0x5A5A);

    private static string GuestOutput(int interrupts)
    {
        ulong checksum = 0;
        for (var s = 0; s < GuestSectors; s++)
        {
            for (var w = 0; w < AtaController.WordsPerSector; w++)
            {
                checksum = (checksum * 31) + GuestPattern(s, w);
            }
        }
        return $"model VirtApi ATA disk\nsectors {GuestDiskSectors:x16}\nchecksum {checksum:x16}\ninterrupts {interrupts:x16}\n";
    }

    /// <summary>Puts a controller on <paramref name="board"/> in legacy slot 0 (0x1000_9000, PLIC source 12), and chooses how the guest waits.</summary>
    private static AtaController Attach(VirtBoard board, IBlockStore store, ElfImage image, bool useInterrupts)
    {
        var ata = new AtaController(board.Plic.Source(DeviceSlots.LegacyInterrupt(0)), store);
        board.Bus.Register(DeviceSlots.Legacy(0), ata);
        board.Bus.Ram.Write(image.Symbols["ata_use_irq"], 8, useInterrupts ? 1UL : 0);
        return ata;
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 10)] // IDENTIFY 1, WRITE 4, FLUSH 1, READ 4
    public void GuestDriver_IdentifiesWritesFlushesAndReadsBack_PollingOrThroughThePlic(bool useInterrupts, int interrupts)
    {
        var elf = GuestProgram.Assemble("ata-disk");
        var image = ElfLoader.Parse(elf);
        var store = new MemoryBlockStore(GuestDiskSectors);
        AtaController? ata = null;

        var outcome = GuestProgram.Run(elf, budget: 2_000_000, beforeRun: board => ata = Attach(board, store, image, useInterrupts));

        Assert.Equal(GuestOutput(interrupts), Encoding.ASCII.GetString(outcome.Console));
        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal((ulong)interrupts, outcome.Board.Harts[0].Counters.Interrupts[(int)InterruptCause.MachineExternal]);
        Assert.NotNull(ata);
        Assert.Equal((4UL, 4UL, 4UL, 1UL), (ata.Counters.Commands, ata.Counters.SectorsWritten, ata.Counters.SectorsRead, ata.Counters.Flushes));
        Assert.Equal(1UL, store.Flushes);
        Assert.Equal(2, store.ChunksTouched); // LBA 0x1ABCDEF ends one 8-sector chunk, the other three begin the next
        var disk = Contents(store, GuestFirstLba, GuestSectors);
        for (var s = 0; s < GuestSectors; s++)
        {
            for (var w = 0; w < AtaController.WordsPerSector; w++)
            {
                Assert.Equal(GuestPattern(s, w), BinaryPrimitives.ReadUInt16LittleEndian(disk.AsSpan((s * AtaController.SectorSize) + (w * 2))));
            }
        }
    }

    [Fact]
    public void GuestDriver_SavedWhileItWritesAndRestoredOnANewBoard_EndsAsTheOriginal()
    {
        var elf = GuestProgram.Assemble("ata-disk");
        var image = ElfLoader.Parse(elf);
        var config = TestMachine.OneHart;

        var originalStore = new MemoryBlockStore(GuestDiskSectors);
        var original = TestMachine.Boot(elf);
        var originalAta = Attach(original.Board, originalStore, image, useInterrupts: true);
        var originalEnd = original.RunToEnd();

        // The same run, stopped in the middle of the second sector of the write (its interrupt
        // taken, the PLIC source claimed and completed, DRQ set), saved, and its disk moved on to a
        // board restored from the snapshot, as a VM moves with its disk.
        var store = new MemoryBlockStore(GuestDiskSectors);
        var first = TestMachine.Boot(elf);
        var firstAta = Attach(first.Board, store, image, useInterrupts: true);
        while (firstAta.Counters.SectorsWritten < 1 || firstAta.Save() is not { Transfer: PioTransfer.DataOut, WordsTransferred: > 100 })
        {
            Assert.Equal(StopReason.InstructionLimit, first.Board.Run(1).Reason);
        }
        var board = first.Save();
        var ata = Json(firstAta.Save());
        var console = first.Console.ToArray();

        var restored = TestMachine.Restore(config, board);
        var restoredAta = AtaController.Restore(new AtaArgs(restored.Board.Plic.Source(DeviceSlots.LegacyInterrupt(0)), store), JsonSerializer.Deserialize<AtaState>(ata, SavedMachine.Json)!);
        restored.Board.Bus.Register(DeviceSlots.Legacy(0), restoredAta);
        var restoredEnd = restored.RunToEnd();

        Assert.Equal(originalEnd, restoredEnd with { InstructionsRetired = originalEnd.InstructionsRetired });
        Assert.Equal(Encoding.ASCII.GetString(original.Console.ToArray()), Encoding.ASCII.GetString([.. console, .. restored.Console]));
        Assert.Equal(original.Board.InstructionsRetired, restored.Board.InstructionsRetired);
        Assert.Equal(Json(originalAta.Save()), Json(restoredAta.Save()));
        Assert.Equal(Contents(originalStore, GuestFirstLba, GuestSectors), Contents(store, GuestFirstLba, GuestSectors));
        Assert.Equal(GuestOutput(interrupts: 10), Encoding.ASCII.GetString(original.Console.ToArray()));
    }
}
