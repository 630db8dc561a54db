"""Indonesian demo content. Agents address customers as "Kak", as Indonesian shops often do."""

from __future__ import annotations

import random

from frontdesk.demo.content import CompanyInfo, LanguagePack, Scenario, grouped

SCENARIOS = (
    Scenario(
        kind="where_is_order",
        subject="Pesanan {order} belum sampai",
        opening=(
            "Halo, saya pesan earphone dengan nomor pesanan {order} sembilan hari yang lalu, tapi "
            'status pelacakan masih "label dibuat". Barangnya saya butuhkan sebelum ke luar kota '
            "minggu depan. Bisa dicek paketnya sekarang ada di mana?"
        ),
        reply=(
            "Halo Kak {name},\n\nterima kasih sudah menghubungi kami. Kami sudah cek ke pihak "
            "ekspedisi: paket terlambat diserahkan karena antrean di gudang kami, tapi sekarang "
            "sudah dalam perjalanan dan diperkirakan sampai dalam dua hari kerja. Kami akan terus "
            "pantau dan kabari Kakak kalau ada perubahan.\n\nSalam,\n{agent}"
        ),
        follow_up=(
            "Terima kasih, tapi statusnya dari kemarin belum berubah. Apa benar paketnya sudah "
            "keluar dari gudang?"
        ),
        second_reply=(
            "Halo Kak {name},\n\nbetul, ada satu pemindaian yang terlewat di ekspedisi. Kami sudah "
            "telepon ke hub dan mereka konfirmasi paket sudah dibawa kurir dan akan diantar besok "
            "sebelum jam 12 siang. Kalau belum sampai, cukup balas pesan ini dan kami kirim "
            "pengganti lewat pengiriman ekspres, gratis.\n\n{agent}"
        ),
        notes=(
            "Ekspedisi konfirmasi paket telat diserahkan dari gudang, sekitar 40 paket kena.",
            "Dijanjikan kirim ekspres kalau besok belum sampai. Cek lagi hari Jumat.",
        ),
    ),
    Scenario(
        kind="delivery_delay",
        subject="Pengiriman pesanan {order} lewat dari jadwal",
        opening=(
            "Di website dijanjikan pesanan {order} sampai paling lambat hari Selasa. Sekarang "
            "sudah Jumat, tidak ada kabar sama sekali, padahal saya sudah izin kerja sehari untuk "
            "menunggu kurir. Ini sangat mengecewakan."
        ),
        reply=(
            "Halo Kak {name},\n\nmohon maaf atas ketidaknyamanannya, seharusnya ini tidak terjadi. "
            "Lemari pesanan Kakak tertahan di gudang transit karena paletnya rusak. Pengiriman "
            "sudah kami jadwalkan ulang hari Senin pukul 08.00–12.00, dan sopir akan menelepon "
            "30 menit sebelumnya. Sebagai permintaan maaf, ongkos kirim sudah kami kembalikan."
            "\n\nSalam,\n{agent}"
        ),
        follow_up="Senin pagi bisa. Terima kasih ongkirnya sudah dikembalikan.",
        second_reply=(
            "Baik Kak, hari Senin ya. Kami sudah tambahkan catatan supaya sopir menelepon dulu. "
            "Selamat berakhir pekan!\n\n{agent}"
        ),
        notes=(
            "Barang besar, gudang transit lapor palet rusak. Ongkir dikembalikan sebagai "
            "kompensasi.",
        ),
    ),
    Scenario(
        kind="wrong_item",
        subject="Ukuran jaket yang dikirim salah",
        opening=(
            "Saya pesan jaket ukuran M (pesanan {order}), tapi label di dalamnya XL. Di kemasannya "
            "tertulis M, jadi sepertinya label tertukar di gudang. Bagaimana cara tukarnya?"
        ),
        reply=(
            "Halo Kak {name},\n\nmohon maaf atas kesalahannya. Kami sudah buatkan penukaran "
            "gratis: dalam beberapa menit Kakak akan menerima email berisi label retur yang sudah "
            "dibayar. Jaketnya cukup diserahkan ke agen ekspedisi terdekat, dan ukuran M langsung "
            "kami kirim begitu paket retur dipindai.\n\nSalam,\n{agent}"
        ),
        notes=(
            "Penukaran dibuat, stok M ada. Sudah info ke gudang soal kemungkinan label tertukar.",
        ),
    ),
    Scenario(
        kind="damaged_goods",
        subject="Rice cooker datang dalam keadaan penyok",
        opening=(
            "Pesanan {order} baru sampai tadi siang. Rice cooker-nya penyok di samping dan "
            "tutupnya tidak bisa menutup rapat, padahal kardusnya dari luar kelihatan baik. Saya "
            "sudah foto. Harus bagaimana?"
        ),
        reply=(
            "Halo Kak {name},\n\nkami mohon maaf barangnya sampai dalam kondisi seperti itu. Boleh "
            "dibalas dengan foto kerusakan dan label pengiriman di kardus? Setelah kami terima, "
            "unit pengganti langsung kami kirim dan unit yang rusak akan dijemput kurir tanpa "
            "biaya.\n\n{agent}"
        ),
        follow_up="Foto sudah saya lampirkan. Labelnya agak sobek, tapi nomornya masih terbaca.",
        second_reply=(
            "Terima kasih Kak, datanya sudah lengkap. Unit pengganti dikirim hari ini dan kurir "
            "akan mengambil unit yang rusak saat mengantar. Nomor resi akan dikirim lewat email."
            "\n\n{agent}"
        ),
        notes=("Klaim ke ekspedisi sudah dibuka. Unit pengganti dikirim dari stok gudang.",),
    ),
    Scenario(
        kind="return_request",
        subject="Cara retur sepatu",
        opening=(
            "Halo, saya mau retur sepatu dari pesanan {order}. Belum dipakai, masih di dalam "
            "kotak, cuma ukurannya kurang pas. Apa saya perlu cetak sesuatu?"
        ),
        reply=(
            "Halo Kak {name},\n\ntentu bisa, barang yang belum dipakai bisa diretur dalam 30 hari. "
            'Buka menu "Pesanan Saya", pilih "Retur Barang", lalu pilih label untuk dicetak atau '
            "kode QR yang cukup ditunjukkan di agen. Dana dikembalikan ke metode pembayaran awal "
            "paling lambat 5 hari kerja setelah barang sampai di gudang kami.\n\nSalam,\n{agent}"
        ),
        notes=("Masih dalam masa retur, proses standar.",),
    ),
    Scenario(
        kind="refund_missing",
        subject="Dana refund belum masuk",
        opening=(
            "Saya sudah kirim balik dua barang dari pesanan {order} lebih dari dua minggu lalu. "
            "Menurut pelacakan sudah diterima minggu lalu, tapi refund {amount} belum juga masuk. "
            "Tolong dicek."
        ),
        reply=(
            "Halo Kak {name},\n\nterima kasih atas kesabarannya. Barang retur sudah kami terima, "
            "tapi antre pemeriksaan lebih lama dari seharusnya. Barusan sudah kami setujui: refund "
            "{amount} diproses hari ini dan biasanya masuk ke rekening dalam 3–5 hari kerja."
            "\n\nSalam,\n{agent}"
        ),
        follow_up="Dananya sudah masuk. Terima kasih sudah dibantu.",
        second_reply=(
            "Syukurlah Kak, sama-sama. Sekali lagi mohon maaf atas keterlambatannya.\n\n{agent}"
        ),
        notes=("Retur tertahan di pemeriksaan 12 hari. Refund diproses manual.",),
    ),
    Scenario(
        kind="double_charge",
        subject="Pembayaran terpotong dua kali",
        opening=(
            "Untuk pesanan {order} saldo saya terpotong dua kali, masing-masing {amount}. Halaman "
            "pembayarannya macet, jadi saya klik bayar lagi. Konfirmasi pesanan cuma datang satu. "
            "Mohon yang kedua dikembalikan."
        ),
        reply=(
            "Halo Kak {name},\n\nkami sudah lihat kedua transaksinya. Yang kedua hanya otorisasi "
            "yang tidak menjadi pesanan. Biasanya batal otomatis, tapi sudah kami minta ke "
            "penyedia pembayaran untuk dibatalkan sekarang juga. Tergantung bank atau e-wallet, "
            "dana akan kembali dalam beberapa hari. Kakak tidak perlu melakukan apa-apa lagi."
            "\n\n{agent}"
        ),
        notes=(
            "Otorisasi ganda sudah dibatalkan di dashboard payment gateway. Halaman macet itu "
            "masalah timeout 3-D Secure yang sudah diketahui.",
        ),
    ),
    Scenario(
        kind="invoice_request",
        subject="Minta faktur pajak untuk pesanan {order}",
        opening=(
            "Selamat siang, saya butuh faktur pajak untuk pesanan {order} karena dibeli atas nama "
            "perusahaan. NPWP perusahaan sudah ada di akun, tapi baru saya tambahkan setelah "
            "pesanan dibuat."
        ),
        reply=(
            "Selamat siang Kak {name},\n\nfaktur {invoice} sudah kami terbitkan dengan data "
            'perusahaan dari akun Kakak. File PDF-nya bisa diunduh kapan saja di menu "Pesanan '
            'Saya".\n\nSalam,\n{agent}'
        ),
        notes=("Faktur diterbitkan ulang dengan NPWP perusahaan.",),
    ),
    Scenario(
        kind="invoice_error",
        subject="Nama perusahaan salah di faktur {invoice}",
        opening=(
            "Di faktur {invoice} nama perusahaan kami salah ketik, jadi bagian keuangan tidak bisa "
            "memprosesnya. Nama yang benar sudah ada di profil perusahaan. Bisa dibetulkan?"
        ),
        reply=(
            "Halo Kak {name},\n\nterima kasih infonya. Faktur yang sudah terbit tidak bisa "
            "diubah, jadi kami buatkan faktur pengganti dengan nama yang benar. Dokumennya sudah "
            'tersedia di akun, menu "Faktur".\n\nSalam,\n{agent}'
        ),
        follow_up="Sudah diterima, bagian keuangan bilang sudah benar. Terima kasih.",
        second_reply="Terima kasih konfirmasinya, Kak. Semoga harinya menyenangkan!\n\n{agent}",
        notes=("Salah ketik saat input manual. Faktur pengganti terbit hari yang sama.",),
    ),
    Scenario(
        kind="device_fault",
        subject="Blender tiba-tiba mati",
        opening=(
            "Blender yang saya beli tiga bulan lalu tiba-tiba mati waktu dipakai dan sekarang "
            "tidak mau menyala sama sekali. Sudah saya coba di colokan lain, hasilnya sama. "
            "Apakah ini masuk garansi?"
        ),
        reply=(
            "Halo Kak {name},\n\nmohon maaf atas kendalanya. Blender ini punya pengaman panas: "
            "coba cabut dari listrik selama 30 menit, lalu tekan tombol reset kecil di bagian "
            "bawah dengan ujung pulpen. Kalau tetap tidak menyala, kami jemput gratis untuk "
            "diperbaiki dalam masa garansi.\n\n{agent}"
        ),
        follow_up="Sudah dicoba reset, tetap tidak nyala.",
        second_reply=(
            "Terima kasih sudah dicoba, Kak. Penjemputan sudah kami jadwalkan hari Kamis, "
            "detailnya dikirim lewat email. Blendernya cukup dikemas di kardus yang kuat, tidak "
            "perlu kemasan asli. Perbaikan biasanya sekitar satu minggu.\n\n{agent}"
        ),
        notes=("Pesanan {order}, garansi masih berlaku. Kemungkinan motornya terbakar.",),
        product_area="home",
    ),
    Scenario(
        kind="account_access",
        subject="Tidak bisa login ke akun",
        opening=(
            "Saya tidak bisa masuk ke akun. Kode OTP dikirim ke nomor HP lama saya yang sudah "
            "tidak aktif. Bagaimana cara menggantinya?"
        ),
        reply=(
            "Halo Kak {name},\n\ndemi keamanan akun, penggantian nomor HP perlu verifikasi. Mohon "
            "balas pesan ini dengan nomor pesanan terakhir Kakak dan nominal pembayarannya. "
            "Setelah cocok, nomor lama akan kami hapus supaya Kakak bisa mendaftarkan nomor baru."
            "\n\n{agent}"
        ),
        follow_up="Pesanan terakhir saya {order}, totalnya {amount}.",
        second_reply=(
            "Terima kasih Kak, datanya sudah cocok. Nomor lama sudah kami hapus. Silakan login "
            'dengan email, lalu daftarkan nomor baru di menu "Keamanan".\n\n{agent}'
        ),
        notes=("Verifikasi lewat pesanan terakhir dan nominal: cocok. Nomor HP lama dihapus.",),
    ),
    Scenario(
        kind="change_address",
        subject="Ganti alamat pengiriman",
        opening=(
            "Saya baru sadar pesanan {order} akan dikirim ke alamat kos lama. Bulan lalu saya "
            "sudah pindah. Apakah alamatnya masih bisa diganti?"
        ),
        reply=(
            "Halo Kak {name},\n\npaketnya belum keluar dari gudang, jadi masih bisa. Demi "
            "keamanan, alamat baru tidak bisa kami terima lewat pesan. Mohon ubah sendiri di "
            '"Pesanan Saya" > "Pengiriman", nanti kami pastikan label dicetak ulang sebelum '
            "dikirim.\n\n{agent}"
        ),
        follow_up="Alamatnya sudah saya ganti di akun.",
        second_reply=(
            "Terima kasih Kak, alamat baru sudah terlihat dan label sudah dicetak ulang. Pesanan "
            "dikirim hari ini.\n\n{agent}"
        ),
        notes=("Alamat diubah pelanggan di akun, label dicetak ulang, gudang sudah diinfo.",),
    ),
    Scenario(
        kind="complaint",
        subject="Komplain kurir: paket dilempar ke teras",
        opening=(
            "Kurirnya melempar paket dari luar pagar ke teras, tetangga saya sampai lihat. Isinya "
            "piring keramik. Saya pelanggan lama dan kecewa sekali dengan cara seperti ini."
        ),
        reply=(
            "Halo Kak {name},\n\nkami sangat menyesal dan mohon maaf. Kejadian ini sudah kami "
            "laporkan ke pihak ekspedisi. Boleh dicek apakah ada piring yang pecah? Kalau ada, "
            "kami kirim pengganti secepatnya.\n\n{agent}"
        ),
        follow_up=(
            "Untungnya tidak ada yang pecah karena dibungkus bubble wrap. Tapi tolong jangan "
            "sampai terulang."
        ),
        second_reply=(
            "Syukurlah tidak ada yang pecah, Kak. Pihak ekspedisi sudah konfirmasi akan menegur "
            "kurirnya, dan di akun Kakak sudah kami tambahkan catatan agar paket selalu "
            "diserahkan langsung.\n\n{agent}"
        ),
        notes=(
            "Komplain sudah diajukan ke ekspedisi. Pelanggan lama: tawarkan voucher kalau "
            "terulang.",
        ),
        extra_tags=("delivery",),
    ),
    Scenario(
        kind="praise",
        subject="Terima kasih atas pelayanannya",
        opening=(
            "Mau bilang terima kasih saja. Kemarin saya telepon soal setrika yang rusak, dan tadi "
            "pagi penggantinya sudah sampai di rumah. Pelayanannya mantap!"
        ),
        reply=(
            "Halo Kak {name},\n\nterima kasih banyak atas pesannya, kami senang sekali "
            "membacanya. Pesan ini akan kami teruskan ke tim gudang yang sudah bergerak cepat."
            "\n\nSalam hangat,\n{agent}"
        ),
        notes=("Diteruskan ke kepala gudang.",),
    ),
)


def _phone(rng: random.Random) -> str:
    return f"+62 81{rng.randint(1, 9)}-{rng.randint(0, 9999):04d}-{rng.randint(0, 9999):04d}"


def _money(rng: random.Random) -> str:
    return f"Rp{grouped(rng.randint(45, 2900) * 1000, '.')}"


def _invoice(rng: random.Random) -> str:
    return f"INV/{rng.randint(100000, 999999)}"


PACK = LanguagePack(
    code="id",
    scenarios=SCENARIOS,
    female_names=(
        "Siti",
        "Dewi",
        "Putri",
        "Ayu",
        "Rina",
        "Wulan",
        "Fitri",
        "Indah",
        "Ratna",
        "Nur",
    ),
    male_names=(
        "Budi",
        "Agus",
        "Andi",
        "Rizky",
        "Hendra",
        "Eko",
        "Dimas",
        "Fajar",
        "Yusuf",
        "Bayu",
    ),
    surnames=tuple(
        (name, name)
        for name in (
            "Santoso",
            "Wijaya",
            "Hidayat",
            "Kusuma",
            "Nugroho",
            "Setiawan",
            "Siregar",
            "Hasibuan",
            "Wibowo",
            "Gunawan",
            "Halim",
        )
    )
    + (("Saputra", "Saputri"),),
    companies=(
        CompanyInfo("PT Sinar Harapan Abadi", "sinarharapan.example", key_account=True),
        CompanyInfo("CV Maju Jaya Elektronik", "majujaya.example"),
        CompanyInfo("Toko Kue Bu Ratna", "kueburatna.example"),
        CompanyInfo("PT Nusantara Logistik", "nusalogistik.example"),
        CompanyInfo("Klinik Sehat Sentosa", "sehatsentosa.example"),
    ),
    mail_domain="surel.example",
    time_zone="Asia/Jakarta",
    phone=_phone,
    money=_money,
    invoice=_invoice,
)
