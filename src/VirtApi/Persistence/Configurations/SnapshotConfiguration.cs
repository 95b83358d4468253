using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence.Configurations;

internal sealed class SnapshotConfiguration : IEntityTypeConfiguration<SnapshotEntity>
{
    public void Configure(EntityTypeBuilder<SnapshotEntity> builder)
    {
        builder.ToTable("Snapshots");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Name).HasMaxLength(63).IsRequired();
        builder.Property(s => s.VmName).HasMaxLength(63).IsRequired();
        builder.HasIndex(s => s.VmId);
        // A diff cannot lose its parent: the API answers 409 naming the dependants first, and the
        // foreign key refuses it even if a request raced past that check.
        builder.HasOne<SnapshotEntity>().WithMany().HasForeignKey(s => s.ParentId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<ImageEntity>().WithMany().HasForeignKey(s => s.ImageId).OnDelete(DeleteBehavior.Restrict);
        builder.Property(s => s.Kind).HasConversion(EnumNames.Converter<SnapshotKind>()).HasMaxLength(16);
        builder.Property(s => s.CpuMode).HasConversion(EnumNames.Converter<CpuMode>()).HasMaxLength(32);
        builder.Property(s => s.CpuProfile).HasConversion(EnumNames.Converter<CpuProfile>()).HasMaxLength(32);
        builder.Property(s => s.MemoryMode).HasConversion(EnumNames.Converter<MemoryMode>()).HasMaxLength(32);
        builder.Property(s => s.VmState).HasConversion(EnumNames.Converter<VmState>()).HasMaxLength(32);
        builder.Property(s => s.MachineStateHash).HasMaxLength(64);
        builder.Property(s => s.PageMap).IsRequired();
        // The device list is read and written whole with its snapshot: one JSON column.
        builder.ComplexCollection(s => s.Devices, devices =>
        {
            devices.ToJson();
            devices.Property(d => d.Kind).HasConversion(EnumNames.Converter<DeviceKind>());
            devices.Property(d => d.Model).HasConversion(EnumNames.Converter<DeviceModel>());
        });
    }
}

internal sealed class StoredPageConfiguration : IEntityTypeConfiguration<StoredPageEntity>
{
    public void Configure(EntityTypeBuilder<StoredPageEntity> builder)
    {
        builder.ToTable("Pages");
        builder.HasKey(p => p.Hash);
        builder.Property(p => p.Hash).HasMaxLength(64);
    }
}

internal sealed class PageReferenceConfiguration : IEntityTypeConfiguration<PageReferenceEntity>
{
    public void Configure(EntityTypeBuilder<PageReferenceEntity> builder)
    {
        builder.ToTable("PageRefs");
        builder.HasKey(p => p.Hash);
        builder.Property(p => p.Hash).HasMaxLength(64);
        builder.HasOne<StoredPageEntity>().WithOne().HasForeignKey<PageReferenceEntity>(p => p.Hash).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(p => p.RefCount);
    }
}
