from django.urls import path

from gallery import views as gallery_views

app_name = "gallery"
urlpatterns = [
    path("", gallery_views.index, name="index"),
    path("boards/", gallery_views.boards, name="boards"),
    path("boards/<int:board_id>/", gallery_views.index, name="board"),
    path("boards/<int:board_id>/edit", gallery_views.board_edit, name="board-edit"),
    path("boards/<int:board_id>/cover", gallery_views.board_cover, name="board-cover"),
    path("boards/<int:board_id>/delete", gallery_views.board_delete, name="board-delete"),
    path("selection", gallery_views.selection, name="selection"),
    path("<uuid:image_id>/", gallery_views.image, name="image"),
    path("<uuid:image_id>/favourite", gallery_views.favourite, name="favourite"),
    path("<uuid:image_id>/board", gallery_views.add_to_board, name="add-to-board"),
]
